import dgram from 'node:dgram'
import t from 'tap'
import { MDNS_GROUP } from '../../lib/discovery/constants.js'
import { type Endpoint, LanDiscovery } from '../../lib/discovery/index.js'

// Real multicast on the loopback interface, on a port of the test's own: nothing leaves the machine and
// no real mDNS responder is met.
const lo = { address: '127.0.0.1', netmask: '255.0.0.0' }
const groupPort = 20_000 + (process.pid % 20_000)

function start(port: number, found: Endpoint[]): LanDiscovery {
  return LanDiscovery.start({ port, interfaces: () => [lo], groupPort, onPeer: (peer) => found.push(peer) })
}

async function until(predicate: () => boolean, ms = 10_000): Promise<boolean> {
  const deadline = Date.now() + ms
  while (!predicate() && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20))
  return predicate()
}

t.test('two nodes on one interface find each other; a goodbye removes the one that left', async (t) => {
  const foundByA: Endpoint[] = []
  const foundByB: Endpoint[] = []
  const a = start(4101, foundByA)
  const b = start(4102, foundByB)
  t.teardown(() => Promise.all([a.close(), b.close()]))
  t.ok(await until(() => foundByA.length > 0 && foundByB.length > 0), 'each found the other')
  t.same(foundByA[0], { host: '127.0.0.1', port: 4102 })
  t.same(foundByB[0], { host: '127.0.0.1', port: 4101 })
  t.same(a.addresses(), ['127.0.0.1'])
  await b.close()
  t.ok(await until(() => a.peers().length === 0), 'b said goodbye')
})

t.test('each start announces a new random label (starts are not linked by it)', async (t) => {
  const listener = dgram.createSocket({ type: 'udp4', reuseAddr: true })
  const captured: Buffer[] = []
  listener.on('message', (data) => captured.push(data))
  await new Promise<void>((resolve) => listener.bind(groupPort, '0.0.0.0', resolve))
  listener.addMembership(MDNS_GROUP, '127.0.0.1')
  t.teardown(() => listener.close())
  const first = start(4103, [])
  t.ok(await until(() => captured.length >= 2), 'an announcement and a query arrived')
  await first.close()
  const second = start(4103, [])
  await until(() => captured.length >= 5)
  await second.close()
  const text = captured.map((data) => data.toString('latin1')).join('\n')
  const labels = new Set(text.match(/pairctl-[0-9a-f]{8}/g))
  t.equal(labels.size, 2, 'each start announces a new label')
})

t.test('an interface that appears after start is announced on; one that goes says goodbye', async (t) => {
  let up = false
  const foundByLate: Endpoint[] = []
  const foundByB: Endpoint[] = []
  const late = LanDiscovery.start({
    port: 4104,
    interfaces: () => (up ? [lo] : []),
    groupPort,
    rescanMs: 100,
    onPeer: (peer) => foundByLate.push(peer),
  })
  const b = start(4105, foundByB)
  t.teardown(() => Promise.all([late.close(), b.close()]))
  await new Promise((resolve) => setTimeout(resolve, 500))
  t.same(late.addresses(), [], 'no interface yet')
  t.same(foundByB, [], 'nothing announced')
  up = true
  t.ok(await until(() => foundByLate.length > 0 && foundByB.length > 0), 'found each other once it came up')
  t.same(late.addresses(), ['127.0.0.1'])
  t.same(foundByB[0], { host: '127.0.0.1', port: 4104 })
  up = false
  t.ok(await until(() => b.peers().length === 0), "the gone interface's goodbye reached b")
  t.same(late.addresses(), [])
  t.same(late.peers(), [], 'what was found there is forgotten')
})
