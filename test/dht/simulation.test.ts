import t from 'tap'
import { Ed25519KeyPair, utf8 } from '../../lib/crypto/index.js'
import { ownedKey } from '../../lib/dht/record.js'
import { MemoryNetwork, type SimNode } from '../../lib/dht/sim.js'
import { buildNetwork, getRecords, lookup, putRecord, recall, testId } from './helpers/sim.js'

// One 1,000-node network (virtual clock, 5-25 ms links) shared by the subtests, in order. The hourly
// table refresh keeps the long virtual waits below from costing 1,000 refresh lookups each.
const net = buildNetwork(1000, {}, { limits: { refreshMs: 3_600_000 } })
const publisher = Ed25519KeyPair.fromSeed(testId('publisher'))

t.test('lookups in a 1,000-node network return the true 20 closest nodes', async (t) => {
  let total = 0
  for (let i = 0; i < 20; i++) {
    const querier = net.nodes[(i * 97) % net.nodes.length]!
    const target = testId(`target ${i}`)
    const found = lookup(net, querier, target)
    t.equal(found.length, 20, `lookup ${i} returns k nodes`)
    total += recall(net, querier, target, found)
  }
  t.ok(total / 20 >= 0.99, `mean recall ${total / 20}`)
})

t.test(
  'a record PUT from one node is found by a GET from another, signature and fields intact',
  async (t) => {
    const key = testId('rendezvous')
    const value = utf8('advert: 192.0.2.1:4000')
    const stored = putRecord(net, net.nodes[3]!, {
      namespace: 'pairing',
      key,
      value,
      keyPair: publisher,
      ttlMs: 600_000,
    })
    t.ok(stored >= 15, `stored on ${stored} of the 20 closest`)
    const records = getRecords(net, net.nodes[777]!, 'pairing', key)
    t.equal(records.length, 1)
    t.same(records[0]!.value, value)
    t.same(records[0]!.publicKey, publisher.publicKey)
    t.equal(records[0]!.deleted, false)
    t.equal(records[0]!.expiresAt, net.now - (net.now - records[0]!.expiresAt))
    t.same(getRecords(net, net.nodes[500]!, 'presence', key), [], 'another namespace is another target')
  },
)

t.test('records expire: after the TTL no node returns them', async (t) => {
  const key = testId('short-lived')
  putRecord(net, net.nodes[10]!, {
    namespace: 'pairing',
    key,
    value: utf8('x'),
    keyPair: publisher,
    ttlMs: 60_000,
  })
  t.equal(getRecords(net, net.nodes[20]!, 'pairing', key).length, 1)
  net.runFor(61_000)
  t.same(getRecords(net, net.nodes[20]!, 'pairing', key), [])
})

t.test('a publication is republished at TTL/2 and a withdraw leaves a signed tombstone', async (t) => {
  const key = testId('published')
  const owner = net.nodes[30]!
  const { publication } = net.act(owner, (core, now) =>
    core.publish('pairing', key, utf8('v'), { keyPair: publisher, ttlMs: 120_000 }, now),
  )
  net.runFor(5_000)
  const first = getRecords(net, net.nodes[40]!, 'pairing', key)
  net.runFor(400_000)
  const later = getRecords(net, net.nodes[40]!, 'pairing', key)
  t.equal(later.length, 1, 'still found after 3x the TTL')
  t.ok(later[0]!.seq > first[0]!.seq, 'republished with a higher seq')
  net.act(owner, (core, now) => core.withdraw(publication, now))
  net.runFor(5_000)
  const after = getRecords(net, net.nodes[40]!, 'pairing', key)
  t.equal(after.length, 1)
  t.equal(after[0]!.deleted, true, 'the tombstone replaced the record')
})

t.test(
  'after 20% of nodes silently die, lookups still find the live 20 closest and the record',
  async (t) => {
    const key = ownedKey('presence', publisher.publicKey)
    putRecord(net, net.nodes[50]!, {
      namespace: 'presence',
      key,
      value: utf8('here'),
      keyPair: publisher,
      ttlMs: 3_600_000,
    })
    for (let i = 1; i < net.nodes.length; i += 5) net.kill(net.nodes[i]!)
    let total = 0
    for (let i = 0; i < 20; i++) {
      const querier = net.nodes[(i * 5 + 2) % net.nodes.length]!
      const target = testId(`churn ${i}`)
      total += recall(net, querier, target, lookup(net, querier, target))
    }
    t.ok(total / 20 >= 0.99, `mean recall after churn ${total / 20}`)
    t.equal(getRecords(net, net.nodes[998]!, 'presence', key).length, 1)
  },
)

t.test(
  'a join whose request and both retransmissions are lost is retried; with no answer at all, joined is false',
  async (t) => {
    const net = new MemoryNetwork({ seed: 5 })
    const first = net.addNode()
    const toFirst = (to: { host: string; port: number }) =>
      to.port === first.address.port && to.host === first.address.host
    let lost = 0
    net.drop = (_from, to) => toFirst(to) && ++lost <= 3
    const start = net.now
    const late = net.addNode()
    t.ok(net.runUntil(() => joinedEvent(late) !== undefined, 60_000))
    t.same(joinedEvent(late), { type: 'bootstrapped', joined: true }, 'the retry got through')
    t.ok(net.now - start > 1_000, `joined after ${Math.round(net.now - start)} ms: a timeout, then a backoff`)
    t.equal(late.core.contacts().length, 1, 'the table holds the bootstrap node')

    net.drop = (_from, to) => toFirst(to)
    const cut = net.addNode()
    const cutAt = net.now
    t.ok(net.runUntil(() => joinedEvent(cut) !== undefined, 120_000))
    t.same(joinedEvent(cut), { type: 'bootstrapped', joined: false }, 'reported after every retry')
    t.ok(net.now - cutAt >= 15_000, `gave up after ${Math.round(net.now - cutAt)} ms of retries`)
    t.equal(cut.core.contacts().length, 0)
    net.drop = null
    net.runFor(30_000)
    t.ok(cut.core.contacts().length >= 1, 'an empty table rejoins through the seeds once they answer')
  },
)

function joinedEvent(node: SimNode) {
  return node.events.find((event) => event.type === 'bootstrapped')
}
