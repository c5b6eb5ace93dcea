import t from 'tap'
import { AddressManager } from '../../lib/addresses/index.js'
import { NodeRelay, type RelayDht } from '../../lib/node/relay.js'
import { encodeAnnouncement, type RelayAddress } from '../../lib/relay/index.js'
import { startRelay } from './helpers/relays.js'

/** A DHT whose lookup of the relay announcement answers only after `delayMs`. */
function slowDht(relay: RelayAddress, delayMs: number): RelayDht {
  return {
    async *get() {
      await new Promise((resolve) => setTimeout(resolve, delayMs))
      yield { value: encodeAnnouncement([relay]) }
    },
  }
}

t.test('a pairing started before the DHT lookup of relays ends still advertises the relay', async (t) => {
  const { address: relay } = await startRelay(t)
  const node = new NodeRelay({
    identityKey: new Uint8Array(32).fill(3),
    devices: () => [],
    configured: [],
    dht: slowDht(relay, 300),
    // No interface: nothing public, so a relay found in the DHT is used.
    addresses: new AddressManager({ ports: { tcp: 1, udp: 1 }, networkInterfaces: () => ({}) }),
    onCircuit: (stream) => stream.destroy(),
  }).start()
  t.teardown(() => node.close())
  // As `generate` does, right after the node started.
  const { address, release } = await node.pairingAddress()
  t.teardown(release)
  t.match(
    address,
    { host: relay.host, port: relay.port, transport: 'relay', token: /^[A-Za-z0-9_-]{43}$/ },
    'the advert address is the relay, with a pairing token',
  )
  t.same(node.relay, relay, 'and the reservation holds')
})
