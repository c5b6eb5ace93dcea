import t from 'tap'
import { Ed25519KeyPair, utf8 } from '../../lib/crypto/index.js'
import { MemoryNetwork, type SimNode } from '../../lib/dht/sim.js'
import { getRecords, putRecord, testId } from './helpers/sim.js'

// Two devices on one LAN with no bootstrap node (spec/dht.md §7.5, §9.1): `auto` nodes, as a daemon
// bound to the wildcard is, each knowing only its own interface address.
function lan(options: { keepOwnRecords?: boolean } = {}): { net: MemoryNetwork; a: SimNode; b: SimNode } {
  const net = new MemoryNetwork({ seed: 7 })
  const node = () => {
    const address = MemoryNetwork.addressOf(net.nodes.length)
    return net.addNode({ mode: 'auto', localAddresses: [address], bootstrap: [], ...options })
  }
  return { net, a: node(), b: node() }
}

const publisher = Ed25519KeyPair.fromSeed(testId('lan publisher'))
const advert = { namespace: 'pairing', key: testId('lan rendezvous'), value: utf8('advert'), ttlMs: 60_000 }

t.test(
  'joined through a bootstrap entry, two auto nodes stay clients: one voter group is not enough',
  async (t) => {
    const net = new MemoryNetwork({ seed: 7 })
    const a = net.addNode({ mode: 'auto', localAddresses: [MemoryNetwork.addressOf(0)], bootstrap: [] })
    const b = net.addNode({ mode: 'auto', localAddresses: [MemoryNetwork.addressOf(1)] })
    net.runFor(30_000)
    t.equal(a.core.isServer, false)
    t.equal(b.core.isServer, false)
    t.equal(a.core.tableSize + b.core.tableSize, 0, 'neither enters the other table')
  },
)

t.test('link peers found by LAN discovery become servers and enter each other tables', async (t) => {
  const { net, a, b } = lan()
  net.act(a, (core, now) => core.addLinkPeer(b.address, now))
  net.act(b, (core, now) => core.addLinkPeer(a.address, now))
  t.ok(
    net.runUntil(() => a.core.tableSize === 1 && b.core.tableSize === 1, 5_000),
    'each holds the other within 5 virtual seconds',
  )
  t.equal(a.core.isServer, true)
  t.equal(b.core.isServer, true)
  t.same(
    a.core.contacts().map(({ host, port }) => ({ host, port })),
    [b.address],
  )
})

t.test('found by one side only, the finder still becomes a server the other can store on', async (t) => {
  const { net, a, b } = lan()
  net.act(a, (core, now) => core.addLinkPeer(b.address, now))
  t.ok(
    net.runUntil(() => b.core.tableSize === 1, 5_000),
    'b added a after a pinged it as a server',
  )
  t.equal(a.core.isServer, true)
  t.equal(putRecord(net, b, { ...advert, keyPair: publisher }), 1, 'b stores its record on a')
  t.equal(getRecords(net, a, advert.namespace, advert.key).length, 1)
})

t.test('a node keeping its own records publishes while alone; the first link peer finds it', async (t) => {
  const { net, a, b } = lan({ keepOwnRecords: true })
  t.equal(putRecord(net, a, { ...advert, keyPair: publisher }), 1, 'stored: its own copy')
  net.act(a, (core, now) => core.addLinkPeer(b.address, now))
  net.act(b, (core, now) => core.addLinkPeer(a.address, now))
  net.runUntil(() => b.core.tableSize === 1, 5_000)
  const found = getRecords(net, b, advert.namespace, advert.key)
  t.equal(found.length, 1, 'b reads the record from a')
  t.same(found[0]!.value, advert.value)
})

t.test('without keepOwnRecords a lone node stores nothing anywhere', async (t) => {
  const { net, a } = lan()
  t.equal(putRecord(net, a, { ...advert, keyPair: publisher }), 0)
  t.same(getRecords(net, a, advert.namespace, advert.key), [])
})

t.test('a link peer of the other family, or our own endpoint, is ignored', async (t) => {
  const { net, a } = lan()
  const before = net.datagrams
  net.act(a, (core, now) => core.addLinkPeer({ host: '::1', port: 4000 }, now))
  net.act(a, (core, now) => core.addLinkPeer(a.address, now))
  net.runFor(1_000)
  t.equal(net.datagrams, before, 'nothing sent')
})
