/**
 * Handshake floods on a node's TCP port (issue #17): connections that send a preamble and then never
 * (or only byte by byte) complete the handshake. Pairing connections are bounded per source address
 * with the oldest evicted (`spec/pairing.md` §4.1), so a real pairing still completes; reconnect
 * handshakes are bounded in all. `bench/abuse` prints the times to eviction.
 */
import t from 'tap'
import { MAX_PENDING_PER_SOURCE } from '../../lib/pairing/constants.js'
import { floodHandshakes, until } from './helpers/flood.js'
import { network, nextEvent, pair, sees, untilOnline } from './helpers/network.js'

const FLOOD = 100

t.test('100 stuck pairing handshakes from one address hold 4 slots; a real pairing completes', async (t) => {
  const { make } = await network(t)
  const alice = await make('alice')
  const bob = await make('bob')
  const port = alice.status('test').listen.find((address) => address.protocol === 'tcp')!.port
  const flood = await floodHandshakes(port, FLOOD, 'pairing')
  t.teardown(() => flood.destroy())
  await until(() => flood.open() <= MAX_PENDING_PER_SOURCE, 5_000, 'the node evicts the flood')
  t.equal(flood.open(), MAX_PENDING_PER_SOURCE, 'the newest 4 are held, every older one was closed')
  flood.trickle()
  await pair(alice, bob)
  t.same(
    alice.devices().map((device) => device.deviceId),
    [bob.deviceId],
  )
  t.same(
    bob.devices().map((device) => device.deviceId),
    [alice.deviceId],
  )
  t.ok(flood.open() < MAX_PENDING_PER_SOURCE, "bob's connection took the oldest flood socket's slot")
})

t.test(
  '100 stuck reconnect handshakes from one address hold 4 slots; the paired device reconnects',
  async (t) => {
    const { make } = await network(t)
    const alice = await make('alice')
    const bob = await make('bob')
    await pair(alice, bob)
    await untilOnline(alice, bob)
    const offline = nextEvent(alice, 'device-offline', (data) => data.deviceId === bob.deviceId)
    await bob.close()
    await offline
    const port = alice.status('test').listen.find((address) => address.protocol === 'tcp')!.port
    const flood = await floodHandshakes(port, FLOOD, 'reconnect')
    t.teardown(() => flood.destroy())
    await until(() => flood.open() <= MAX_PENDING_PER_SOURCE, 5_000, 'the node evicts the flood')
    t.equal(flood.open(), MAX_PENDING_PER_SOURCE, 'the newest 4 are held, every older one was closed')
    flood.trickle()
    const bob2 = await make('bob')
    await until(() => sees(alice, bob2) && sees(bob2, alice), 15_000, 'bob back online at alice')
    t.pass('bob is back online at alice, both ways, through the flood')
    await until(() => flood.open() === 0, 15_000, 'the handshake timeout closes the held ones')
    t.equal(flood.closedAfterMs().length, FLOOD, 'every flood socket was closed by the node')
  },
)
