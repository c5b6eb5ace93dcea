import { AMPLIFICATION_FACTOR } from '../dht/constants.js'
import { DhtNode } from '../dht/node.js'
import { type Endpoint, StunServer, type StunServerCounters } from '../stun/index.js'

/** Options of {@link startBootstrapNode} (`spec/dht.md` §11.1, `spec/stun.md`). */
export interface BootstrapNodeOptions {
  /** Address to bind; default `0.0.0.0`: every interface address, each reply from the one asked. */
  host?: string
  /** UDP port; 0 (default) picks one. */
  port?: number
  /** Other bootstrap nodes `HOST:PORT` to join. */
  bootstrap?: string[]
}

/** A running bootstrap node: a DHT server that answers STUN on its port. */
export interface BootstrapNode {
  /** The bound UDP port. */
  readonly port: number
  /** Every address the DHT serves from (one per interface address for a wildcard host). */
  addresses(): Endpoint[]
  /** DHT counters and each STUN server's. */
  stats(): { dht: ReturnType<DhtNode['stats']>; stun: StunServerCounters[] }
  close(): Promise<void>
}

/**
 * Starts what `pairctl bootstrap` runs: a long-lived DHT node in server mode, with no identity and no
 * pairing, that also answers STUN Binding requests on the same UDP port (`spec/dht.md` §3.4), so a
 * node learns its external address from the node it joins through. A multi-homed host gets one STUN
 * server per local address, each answering from the address it was asked at.
 */
export async function startBootstrapNode(options: BootstrapNodeOptions = {}): Promise<BootstrapNode> {
  const node = await DhtNode.create({
    host: options.host ?? '0.0.0.0',
    port: options.port ?? 0,
    bootstrap: options.bootstrap ?? [],
    mode: 'server',
  })
  const servers = new Map<string, StunServer>()
  node.onForeignDatagram((data, from, reply, local) => {
    const key = `${local.host}|${local.port}`
    const server = servers.get(key) ?? new StunServer({ primary: local })
    servers.set(key, server)
    const answer = answerStunOnDhtPort(server, data, from, local)
    if (answer !== null) reply(answer)
  })
  return {
    port: node.address().port,
    addresses: () => node.addresses(),
    stats: () => ({ dht: node.stats(), stun: [...servers.values()].map((server) => server.counters) }),
    close: () => node.close(),
  }
}

/**
 * A STUN answer on a DHT port: like every reply there at most {@link AMPLIFICATION_FACTOR} times the
 * request (`spec/dht.md` §8.1), so a spoofed source gains no amplification from STUN either.
 */
export function answerStunOnDhtPort(
  server: StunServer,
  data: Uint8Array,
  from: Endpoint,
  local: Endpoint,
): Uint8Array | null {
  return server.handle(data, from, local, AMPLIFICATION_FACTOR * data.length)
}
