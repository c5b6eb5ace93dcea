import fc from 'fast-check'
import t from 'tap'
import { encodeCbor } from '../../lib/cbor.js'
import { Ed25519KeyPair, randomBytes, utf8 } from '../../lib/crypto/index.js'
import { encodeAddress, nodeIdOf } from '../../lib/dht/address.js'
import { Command, WireError } from '../../lib/dht/constants.js'
import { encodeDatagram } from '../../lib/dht/fast-cbor.js'
import { encodeRequest, encodeResponse } from '../../lib/dht/messages.js'
import { signRecord } from '../../lib/dht/record.js'
import { loadTable } from '../../lib/dht/routing.js'
import { AddressVotes } from '../../lib/dht/votes.js'
import { ask, drain, fillTable, makeCore, NOW, peer, SERVER } from './helpers/core.js'

const keyPair = Ed25519KeyPair.fromSeed(new Uint8Array(32).fill(3))
const key = new Uint8Array(32).fill(9)

function putWith(
  core: ReturnType<typeof makeCore>,
  from = peer(1),
  record = signRecord('pairing', key, { seq: 5, expiresAt: NOW + 60_000, value: utf8('v') }, keyPair),
  now = NOW,
) {
  const got = ask(core, from, Command.GET, { ns: 'pairing', k: key }, { now })!
  return (
    ask(core, from, Command.PUT, { ns: 'pairing', k: key, tk: got.message.tk!, r: record }, { now })!.message
      .e ?? 0
  )
}

t.test('random and mutated datagrams are dropped and counted, never thrown', async (t) => {
  const core = makeCore()
  const valid = encodeRequest({ t: 1, c: Command.FIND_NODE, to: encodeAddress(SERVER) }, { tg: key })
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 1400 }), fc.nat(), fc.nat(255), (junk, at, byte) => {
      const mutated = Uint8Array.from(valid)
      mutated[at % mutated.length] = byte
      core.receive(junk, peer(2), NOW)
      core.receive(mutated, peer(2), NOW)
      drain(core)
    }),
    { numRuns: 300 },
  )
  const before = core.counters.malformed
  core.receive(new Uint8Array(1201).fill(0xa1), peer(2), NOW)
  core.receive(encodeCbor({ y: 0, v: 2, t: 1, c: 0, to: encodeAddress(SERVER) }), peer(2), NOW)
  core.receive(encodeCbor({ y: 0, v: 1, t: 1, c: Command.PUT, to: encodeAddress(SERVER) }), peer(2), NOW)
  t.equal(core.counters.malformed, before + 3, 'oversized, other version, PUT without its fields')
  t.same(drain(core), [])
})

t.test('every reply is at most 3x its request, trimming contacts and records', async (t) => {
  const core = makeCore({ limits: { requestsPerSecond: Number.POSITIVE_INFINITY } })
  fillTable(
    core,
    Array.from({ length: 200 }, (_, i) => peer(i + 10)),
  )
  for (let i = 0; i < 8; i++) {
    const publisher = Ed25519KeyPair.fromSeed(new Uint8Array(32).fill(40 + i))
    const record = signRecord(
      'pairing',
      key,
      { seq: 1, expiresAt: NOW + 60_000, value: randomBytes(600) },
      publisher,
    )
    t.equal(putWith(core, peer(300 + i), record), WireError.OK)
  }
  fc.assert(
    fc.property(fc.constantFrom(Command.PING, Command.FIND_NODE, Command.GET), fc.boolean(), (c, withId) => {
      const body =
        c === Command.FIND_NODE ? { tg: randomBytes(32) } : c === Command.GET ? { ns: 'pairing', k: key } : {}
      const reply = ask(core, peer(999), c, body, { id: withId ? undefined : null })
      return reply !== null && reply.bytes.length <= 3 * reply.request.length && reply.bytes.length <= 1200
    }),
    { numRuns: 100 },
  )
  const get = ask(core, peer(999), Command.GET, { ns: 'pairing', k: key })!
  t.ok(get.message.m, 'more records than fit: m is set')
  t.ok((get.message.rs?.length ?? 0) >= 1)
  const tiny = encodeCbor({ y: 0, v: 1, t: 3, c: Command.FIND_NODE, to: encodeAddress(SERVER), tg: key })
  core.receive(tiny, peer(999), NOW)
  const out = drain(core)
  t.ok(
    out.length === 0 || out[0]!.bytes.length <= 3 * tiny.length,
    'an unpadded request gets a trimmed reply or none',
  )
})

t.test('a claimed id that is not the sender endpoint hash is counted and ignored', async (t) => {
  const core = makeCore()
  ask(core, peer(5), Command.PING, {}, { id: new Uint8Array(32).fill(1) })
  t.equal(core.counters.idMismatch, 1)
  t.equal(drain(core).length, 0, 'no probe: it is treated as a client')
  t.equal(core.contacts().length, 0)
})

t.test('requesters enter the table only after answering a PING', async (t) => {
  const core = makeCore()
  core.receive(
    encodeRequest({ t: 1, c: 0, to: encodeAddress(SERVER), id: nodeIdOf(peer(6)) }, {}),
    peer(6),
    NOW,
  )
  const probe = drain(core).find((out) => out.message.y === 0)!
  t.equal(probe.message.c, Command.PING)
  t.equal(core.contacts().length, 0, 'not before it answers')
  const reply = encodeResponse(
    { t: probe.message.t, c: 0, to: encodeAddress(SERVER), id: nodeIdOf(peer(6)) },
    {},
    1200,
  )!
  core.receive(reply, peer(6), NOW)
  t.equal(core.contacts().length, 1)
  core.receive(reply, peer(6), NOW)
  t.equal(core.counters.unexpectedResponses, 1, 'a replayed response matches no transaction')
})

t.test('per-source token bucket: a burst over the limit is dropped, then allowed again', async (t) => {
  const core = makeCore({ limits: { requestsPerSecond: 10, requestBurst: 5 } })
  const answered = Array.from(
    { length: 8 },
    () => ask(core, peer(7), Command.PING, {}, { id: null }) !== null,
  )
  t.same(answered, [true, true, true, true, true, false, false, false])
  t.equal(core.counters.rateLimited, 3)
  t.ok(ask(core, peer(8), Command.PING, {}, { id: null }), 'another group is not limited')
  t.ok(ask(core, peer(7), Command.PING, {}, { id: null, now: NOW + 1_000 }), 'refilled after a second')
})

t.test('PUT rules: token, seq, tombstone, caps, expiry window, TTL clamp, GC', async (t) => {
  const core = makeCore()
  const record = (seq: number, value = utf8('v'), expiresAt = NOW + 60_000, pair = keyPair) =>
    signRecord('pairing', key, { seq, expiresAt, value }, pair)
  t.equal(
    ask(core, peer(1), Command.PUT, { ns: 'pairing', k: key, tk: new Uint8Array(16), r: record(1) })!.message
      .e,
    WireError.BAD_TOKEN,
  )
  t.equal(putWith(core, peer(1), record(5)), WireError.OK)
  t.equal(putWith(core, peer(1), record(5)), WireError.OK, 'the identical record again')
  t.equal(putWith(core, peer(1), record(4)), WireError.STALE_SEQ)
  t.equal(putWith(core, peer(1), record(5, utf8('other'))), WireError.STALE_SEQ, 'same seq, different record')
  t.equal(putWith(core, peer(1), { ...record(6), v: utf8('forged') }), WireError.BAD_RECORD, 'bad signature')
  t.equal(putWith(core, peer(1), record(6, utf8('v'), NOW - 200_000)), WireError.BAD_RECORD, 'expired')
  t.equal(
    putWith(core, peer(1), record(6, utf8('v'), NOW + 3_600_000)),
    WireError.BAD_RECORD,
    'over the 15 min clamp',
  )
  t.equal(putWith(core, peer(1), record(7, new Uint8Array(0))), WireError.OK, 'signed delete')
  const stored = ask(core, peer(2), Command.GET, { ns: 'pairing', k: key })!.message.rs!
  t.equal(stored.length, 1)
  t.equal(stored[0]!.v.length, 0, 'the tombstone replaced the record')
  for (let i = 0; i < 7; i++)
    t.equal(
      putWith(
        core,
        peer(10 + i),
        record(1, utf8('x'), NOW + 60_000, Ed25519KeyPair.fromSeed(new Uint8Array(32).fill(60 + i))),
      ),
      WireError.OK,
    )
  t.equal(
    putWith(
      core,
      peer(20),
      record(1, utf8('x'), NOW + 60_000, Ed25519KeyPair.fromSeed(new Uint8Array(32).fill(99))),
    ),
    WireError.STORE_FULL,
    '8 publishers per key',
  )
  const clamped = record(8, utf8('long'), NOW + 15 * 60_000 + 60_000)
  t.equal(putWith(core, peer(1), clamped), WireError.OK, 'within clamp + skew')
  core.handleTimeout(NOW + 15 * 60_000 + 1)
  t.same(
    ask(core, peer(2), Command.GET, { ns: 'pairing', k: key }, { now: NOW + 15 * 60_000 + 1 })!.message.rs,
    undefined,
    'deleted at the clamped TTL although its signed expiry is later',
  )
  core.handleTimeout(NOW + 20 * 60_000)
  t.same(core.storeStats(), { records: 0, bytes: 0 }, 'swept')
})

t.test('tokens: accepted through one rotation, rejected after two', async (t) => {
  const core = makeCore({ limits: { tokenRotateMs: 1_000 } })
  const token = ask(core, peer(1), Command.GET, { ns: 'pairing', k: key })!.message.tk!
  const r = signRecord('pairing', key, { seq: 1, expiresAt: NOW + 600_000, value: utf8('v') }, keyPair)
  core.handleTimeout(NOW + 1_000)
  t.equal(
    ask(core, peer(1), Command.PUT, { ns: 'pairing', k: key, tk: token, r }, { now: NOW + 1_000 })!.message
      .e ?? 0,
    WireError.OK,
  )
  core.handleTimeout(NOW + 2_000)
  t.equal(
    ask(core, peer(1), Command.PUT, { ns: 'pairing', k: key, tk: token, r }, { now: NOW + 2_000 })!.message.e,
    WireError.BAD_TOKEN,
  )
  const other = ask(core, peer(2), Command.GET, { ns: 'pairing', k: key }, { now: NOW + 2_000 })!.message.tk!
  t.equal(
    ask(core, peer(1), Command.PUT, { ns: 'pairing', k: key, tk: other, r }, { now: NOW + 2_000 })!.message.e,
    WireError.BAD_TOKEN,
    'bound to the endpoint',
  )
})

t.test('subnet grouping: at most 2 nodes of one /24 per bucket', async (t) => {
  const core = makeCore({ grouping: 'subnet' })
  fillTable(
    core,
    Array.from({ length: 6 }, (_, i) => ({ host: `10.77.1.${i + 1}`, port: 7000 })),
  )
  t.equal(core.contacts().length, 2)
  t.equal(core.tableSize, 2)
  const loopback = makeCore({ grouping: 'endpoint' })
  fillTable(
    loopback,
    Array.from({ length: 6 }, (_, i) => ({ host: '10.77.1.1', port: 7000 + i })),
  )
  t.equal(loopback.contacts().length, 6, 'endpoint grouping (loopback) keys by ip:port')
})

t.test('saved tables round-trip and garbage is DHT_BAD_TABLE', async (t) => {
  const core = makeCore()
  fillTable(core, [peer(1), peer(2)])
  t.same(loadTable(core.exportRoutingTable()).length, 2)
  for (const bad of [
    null,
    { version: 2, nodes: [] },
    { version: 1, nodes: ['nope'] },
    { version: 1, nodes: [1] },
  ])
    t.throws(() => loadTable(bad), { code: 'DHT_BAD_TABLE' })
})

t.test('external address: majority of responder groups, at least two', async (t) => {
  const votes = new AddressVotes()
  votes.vote('a', { host: '198.51.100.1', port: 1 })
  t.equal(votes.winner(), null)
  votes.vote('b', { host: '198.51.100.1', port: 1 })
  votes.vote('c', { host: '203.0.113.5', port: 1 })
  t.same(votes.winner(), { host: '198.51.100.1', port: 1 })
  votes.vote('d', { host: '203.0.113.5', port: 1 })
  t.equal(votes.winner(), null, 'a tie has no majority')
})

t.test('the fast encoder equals lib/cbor on random messages', async (t) => {
  const bytes = fc.uint8Array({ maxLength: 40 })
  const value = fc.record(
    {
      y: fc.nat(1),
      t: fc.nat(2 ** 32 - 1),
      big: fc.maxSafeNat(),
      s: fc.string({ maxLength: 10 }),
      b: bytes,
      n: fc.array(bytes, { maxLength: 5 }),
      m: fc.boolean(),
      r: fc.record({ p: bytes, x: fc.nat() }),
    },
    { requiredKeys: ['y'] },
  )
  fc.assert(
    fc.property(value, (v) => Buffer.from(encodeDatagram(v)).equals(Buffer.from(encodeCbor(v)))),
    { numRuns: 500 },
  )
  t.pass('500 random messages encoded identically')
})

t.test('a client sends no id and is never probed or added by servers', async (t) => {
  const client = makeCore({ mode: 'client', address: undefined, bootstrap: [SERVER] })
  const [join] = drain(client)
  t.equal(join!.message.id, undefined, 'requests carry no id')
  const server = makeCore()
  server.receive(join!.bytes, peer(50), NOW)
  const out = drain(server)
  t.equal(out.length, 1, 'only the reply, no probe')
  t.equal(server.contacts().length, 0)
})

t.test(
  'ping-before-evict: a full bucket replaces its stalest node only if that node is silent',
  async (t) => {
    const core = makeCore()
    const farBit = (core.id[0]! & 0x80) ^ 0x80
    const far = Array.from({ length: 400 }, (_, i) => peer(i + 1000)).filter(
      (p) => (nodeIdOf(p)[0]! & 0x80) === farBit,
    )
    fillTable(core, far.slice(0, 20))
    t.equal(core.contacts().length, 20, 'the far bucket is full (it never splits)')
    const newcomer = far[20]!
    const later = NOW + 61_000
    const reply = (to: { message: { t: number; c: number } }, from: typeof newcomer, body: object) =>
      core.receive(
        encodeResponse(
          { t: to.message.t, c: to.message.c, to: encodeAddress(SERVER), id: nodeIdOf(from) },
          body,
          1200,
        )!,
        from,
        later,
      )
    // A lookup asks a far node, which names the newcomer; the newcomer answers too.
    core.findNode(nodeIdOf(newcomer), later)
    const first = drain(core).find((out) => out.message.y === 0)!
    const asked = far.find((p) => p.port === first.to.port && p.host === first.to.host)!
    reply(first, asked, { n: [encodeAddress(newcomer)] })
    const toNewcomer = drain(core).find(
      (out) => out.to.host === newcomer.host && out.to.port === newcomer.port,
    )!
    reply(toNewcomer, newcomer, {})
    const stale = drain(core).find((out) => out.message.c === Command.PING)
    t.ok(stale, 'the stalest node (quiet for over 60 s) is pinged')
    t.equal(core.contacts().length, 20)
    core.handleTimeout(later + 10_000)
    const ids = core.contacts().map((contact) => Buffer.from(contact.id).toString('hex'))
    t.equal(ids.length, 20)
    t.ok(
      ids.includes(Buffer.from(nodeIdOf(newcomer)).toString('hex')),
      'the silent node was replaced by the newcomer',
    )
    t.notOk(
      ids.some(
        (id) => id === Buffer.from(nodeIdOf({ host: stale!.to.host, port: stale!.to.port })).toString('hex'),
      ),
    )
  },
)
