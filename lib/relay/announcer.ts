import { Ed25519KeyPair, randomBytes } from '../crypto/index.js'
import { DhtNode } from '../dht/node.js'
import { localAddresses } from '../node/listener.js'
import { ANNOUNCE_KEY, encodeAnnouncement, MAX_ANNOUNCED_ADDRESSES } from './announce.js'
import type { RelayAddress } from './client.js'
import { ANNOUNCE_TTL_MS, RELAY_NAMESPACE } from './constants.js'

/** How long the announcer waits for its DHT node to join before publishing anyway. */
const JOIN_WAIT_MS = 5_000

/** A running announcement; `close()` withdraws it and closes the DHT node. */
export interface Announcer {
  /** The addresses announced, best first. */
  readonly addresses: RelayAddress[]
  close(): Promise<void>
}

/**
 * Announces a relay in the DHT (`spec/relay.md` §7): joins through `bootstrap` as a client node, then
 * publishes the relay's addresses (the one DHT peers see it at, if they agree, then its interface
 * addresses, loopback last) under the announce key with a key pair drawn now, republished until closed.
 */
export async function announceRelay(options: {
  host: string
  port: number
  bootstrap: string[]
}): Promise<Announcer> {
  const wildcard = options.host === '::' || options.host === '0.0.0.0'
  const dht = await DhtNode.create({
    host: wildcard ? '0.0.0.0' : options.host,
    bootstrap: options.bootstrap,
    mode: 'client',
  })
  try {
    await Promise.race([
      dht.ready(),
      new Promise((resolve) => setTimeout(resolve, JOIN_WAIT_MS).unref()),
    ]).catch(() => {})
    const addresses = announcedAddresses(options.host, options.port, dht.externalAddress()?.host)
    const keyPair = Ed25519KeyPair.fromSeed(randomBytes(32))
    const publication = dht.publish(RELAY_NAMESPACE, ANNOUNCE_KEY, encodeAnnouncement(addresses), {
      keyPair,
      ttlMs: ANNOUNCE_TTL_MS,
    })
    await publication.stored
    return {
      addresses,
      close: async () => {
        await publication.withdraw().catch(() => {})
        await dht.close()
      },
    }
  } catch (err) {
    await dht.close()
    throw err
  }
}

function announcedAddresses(host: string, port: number, external: string | undefined): RelayAddress[] {
  const local = localAddresses(host === '::' ? '0.0.0.0' : host, port, 'tcp').map((a) => a.host)
  const hosts = [...new Set([...(external === undefined ? [] : [external]), ...local])]
  return hosts.slice(0, MAX_ANNOUNCED_ADDRESSES).map((h) => ({ host: h, port }))
}
