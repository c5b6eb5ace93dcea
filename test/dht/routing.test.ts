import fc from 'fast-check'
import t from 'tap'
import { toHex } from '../../lib/crypto/index.js'
import { decodeAddress, encodeAddress, nodeIdOf } from '../../lib/dht/address.js'
import {
  bytesOf,
  endpointText,
  equalsText,
  groupText,
  hostOf,
  nodeIdText,
  portOf,
  textOf,
} from '../../lib/dht/endpoint.js'
import { compare, xor } from '../../lib/dht/lookup.js'
import { RoutingTable, TableEntry } from '../../lib/dht/routing.js'

const NOW = 1_800_000_000_000
const endpoint4 = fc.uint8Array({ minLength: 6, maxLength: 6 }).filter((b) => b[4]! + b[5]! > 0)
const endpoint6 = fc.uint8Array({ minLength: 18, maxLength: 18 }).filter((b) => b[16]! + b[17]! > 0)

/** The table entry of IPv4 endpoint number `i` (distinct /24s), its id derived as on the wire. */
function entry(i: number, host = `10.${(i >> 8) & 255}.${i & 255}.1`, port = 4000): TableEntry {
  const key = endpointText({ host, port })
  return new TableEntry(key, nodeIdText(key))
}

function tableOf(local: TableEntry, count: number, k = 20): { table: RoutingTable; added: TableEntry[] } {
  const table = new RoutingTable(local.idText, k, 2, 'subnet', NOW)
  const added: TableEntry[] = []
  for (let i = 1; i <= count; i++) {
    const candidate = entry(i)
    if (table.add(candidate, NOW + i).kind === 'added') added.push(candidate)
  }
  return { table, added }
}

t.test('compact endpoints as text round-trip and agree with the byte forms (§3.1, §4.1)', async (t) => {
  fc.assert(
    fc.property(fc.oneof(endpoint4, endpoint6), (wire) => {
      const address = decodeAddress(wire)!
      const text = endpointText(address)
      return (
        text === textOf(wire) &&
        toHex(bytesOf(text)) === toHex(wire) &&
        hostOf(text) === address.host &&
        portOf(text) === address.port &&
        nodeIdText(text) === textOf(nodeIdOf(address)) &&
        equalsText(nodeIdOf(address), nodeIdText(text))
      )
    }),
    { numRuns: 300 },
  )
  t.equal(hostOf(endpointText({ host: '2001:db8::1', port: 9 })), '2001:db8::1')
  t.notOk(equalsText(new Uint8Array(32), textOf(new Uint8Array(31))), 'lengths differ')
  t.notOk(equalsText(new Uint8Array(32), textOf(new Uint8Array(32).fill(1))))
})

t.test('address groups as text: the /24 or /64 prefix, or the whole endpoint (§8.3)', async (t) => {
  const a = endpointText({ host: '192.0.2.7', port: 1 })
  const b = endpointText({ host: '192.0.2.200', port: 2 })
  const c = endpointText({ host: '192.0.3.7', port: 1 })
  t.equal(groupText(a, 'subnet'), groupText(b, 'subnet'))
  t.not(groupText(a, 'subnet'), groupText(c, 'subnet'))
  t.not(groupText(a, 'endpoint'), groupText(b, 'endpoint'))
  const v6 = endpointText({ host: '2001:db8:0:1::5', port: 1 })
  t.equal(groupText(v6, 'subnet'), groupText(endpointText({ host: '2001:db8:0:1::9', port: 7 }), 'subnet'))
  t.not(groupText(v6, 'subnet'), groupText(endpointText({ host: '2001:db8:0:2::5', port: 1 }), 'subnet'))
})

t.test('a table entry derives its byte id, endpoint and host from its two strings', async (t) => {
  const e = entry(0, '198.51.100.4', 6881)
  t.same(e.id, nodeIdOf({ host: '198.51.100.4', port: 6881 }))
  t.same(e.wire, encodeAddress({ host: '198.51.100.4', port: 6881 }))
  t.equal(e.host, '198.51.100.4')
  t.equal(e.port, 6881)
})

t.test('closest returns exactly the n nearest entries by XOR distance, nearest first', async (t) => {
  const local = entry(0)
  const { table, added } = tableOf(local, 600)
  t.ok(table.size > 60 && table.size === added.length, `table of ${table.size}`)
  fc.assert(
    fc.property(
      fc.uint8Array({ minLength: 32, maxLength: 32 }),
      fc.integer({ min: 1, max: 45 }),
      (target, n) => {
        const truth = [...added]
          .sort((a, b) => compare(xor(a.id, target), xor(b.id, target)))
          .slice(0, n)
          .map((e) => e.key)
        return (
          table
            .closest(textOf(target), n)
            .map((e) => e.key)
            .join() === truth.join()
        )
      },
    ),
    { numRuns: 200 },
  )
  t.equal(table.closest(local.idText, 1000).length, table.size, 'n beyond the table returns all of it')
})

t.test('a level keeps min(k, nodes offered) nodes: only the bucket holding our own id splits', async (t) => {
  const local = entry(0)
  const { table, added } = tableOf(local, 2000, 8)
  const levelOf = (e: TableEntry) => {
    const x = xor(local.id, e.id)
    const byte = x.findIndex((v) => v !== 0)
    return byte * 8 + Math.clz32(x[byte]!) - 24
  }
  const tally = (entries: TableEntry[]) => {
    const counts = new Map<number, number>()
    for (const e of entries) counts.set(levelOf(e), (counts.get(levelOf(e)) ?? 0) + 1)
    return counts
  }
  const offered = tally(Array.from({ length: 2000 }, (_, i) => entry(i + 1)))
  const kept = tally(added)
  for (const [level, count] of offered) t.equal(kept.get(level) ?? 0, Math.min(8, count), `level ${level}`)
  const far = Array.from({ length: 50 }, (_, i) => entry(i + 5000)).find((e) => levelOf(e) === 0)!
  t.notOk(table.hasRoom(far))
  const result = table.add(far, NOW + 10_000)
  t.equal(result.kind, 'full', 'a full far bucket does not take a newcomer')
  t.equal(result.kind === 'full' && levelOf(result.stale), 0, 'it offers a node of that bucket')
})

t.test(
  'ping-before-evict order: the least recently seen is offered, a refresh moves to the back',
  async (t) => {
    const local = entry(0)
    const table = new RoutingTable(local.idText, 2, 2, 'subnet', NOW)
    const farSide = (e: TableEntry) => (e.id[0]! & 0x80) !== (local.id[0]! & 0x80)
    const far = Array.from({ length: 400 }, (_, i) => entry(i + 1)).filter(farSide)
    t.equal(table.add(far[0]!, NOW + 1_000).kind, 'added')
    t.equal(table.add(far[1]!, NOW + 2_000).kind, 'added')
    const full = table.add(far[2]!, NOW + 3_000)
    t.same(full.kind === 'full' && full.stale.key, far[0]!.key, 'the stalest is offered')
    table.add(far[0]!, NOW + 4_500)
    const again = table.add(far[2]!, NOW + 5_000)
    t.same(again.kind === 'full' && again.stale.key, far[1]!.key, 'a refreshed node is no longer the stalest')
    t.equal(table.seenAt(far[0]!), NOW + 4_000, 'seen times are kept to the second')
    t.equal(table.find(far[1]!.key), far[1])
    t.equal(table.get(far[1]!.idText), far[1])
    table.remove(far[1]!.idText)
    t.equal(table.find(far[1]!.key), null)
    t.equal(table.size, 1)
    t.equal(table.add(far[2]!, NOW + 6_000).kind, 'added', 'room after a removal')
  },
)

t.test('a rebuilt table keeps the entries and their seen times under the new local id', async (t) => {
  // Fewer than k nodes: all fit whatever the buckets are under the new id.
  const { table, added } = tableOf(entry(0), 15)
  const rebuilt = table.rebuilt(entry(7777, '192.0.2.1', 1).idText)
  t.equal(rebuilt.size, table.size)
  for (const e of added) t.equal(rebuilt.seenAt(e), table.seenAt(e))
})

t.test('at most nodesPerGroup nodes of one /24 per bucket', async (t) => {
  const local = entry(0)
  const table = new RoutingTable(local.idText, 20, 2, 'subnet', NOW)
  const sameSubnet = Array.from({ length: 200 }, (_, i) => entry(0, '10.99.1.7', 1000 + i))
  const results = sameSubnet.map((e) => table.add(e, NOW).kind)
  t.ok(results.filter((kind) => kind === 'added').length <= 2 * 8, 'at most 2 per bucket')
  t.ok(results.includes('rejected'))
})
