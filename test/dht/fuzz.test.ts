import fc from 'fast-check'
import t from 'tap'
import { z } from 'zod'
import { decodeCbor } from '../../lib/cbor.js'
import { Ed25519KeyPair, utf8 } from '../../lib/crypto/index.js'
import { encodeAddress } from '../../lib/dht/address.js'
import { Command, type CommandCode, ID_BYTES, K, MAX_DATAGRAM_BYTES } from '../../lib/dht/constants.js'
import {
  decodeMessage,
  encodeRequest,
  encodeResponse,
  MessageSchema,
  replyBudget,
} from '../../lib/dht/messages.js'
import { signRecord } from '../../lib/dht/record.js'
import { cborFieldMutationOf, garbageOr, runs, sameValue } from '../fuzz/helpers/arbitraries.js'
import { ask, drain, makeCore, NOW, peer, SERVER } from './helpers/core.js'

const keyPair = Ed25519KeyPair.fromSeed(new Uint8Array(32).fill(5))
const to = encodeAddress(SERVER)
const id = fc.uint8Array({ minLength: ID_BYTES, maxLength: ID_BYTES })
const endpoint = fc.oneof(
  fc.uint8Array({ minLength: 6, maxLength: 6 }),
  fc.uint8Array({ minLength: 18, maxLength: 18 }),
)
const record = fc
  .record({
    seq: fc.maxSafeNat(),
    expiresAt: fc.maxSafeNat(),
    value: fc.uint8Array({ maxLength: 200 }),
    key: id,
  })
  .map(({ key, ...fields }) => signRecord('pairing', key, fields, keyPair))
const request = fc.record(
  {
    t: fc.nat(0xffffffff),
    c: fc.constantFrom<CommandCode>(Command.PING, Command.FIND_NODE, Command.GET, Command.PUT),
    id,
    tg: id,
    ns: fc.string({ maxLength: 8 }),
    k: id,
    pk: id,
    o: fc.nat(255),
    sk: fc.nat(255),
    tk: fc.uint8Array({ minLength: 16, maxLength: 16 }),
    r: record,
  },
  { requiredKeys: ['t', 'c', 'tg', 'ns', 'k', 'r'] },
)
const response = fc.record(
  {
    t: fc.nat(0xffffffff),
    c: fc.nat(255),
    id,
    n: fc.array(endpoint, { maxLength: 8 }),
    tk: fc.uint8Array({ minLength: 16, maxLength: 16 }),
    rs: fc.array(record, { maxLength: 3 }),
    m: fc.boolean(),
    e: fc.nat(7) as fc.Arbitrary<0 | 1 | 2 | 3 | 4 | 5 | 6 | 7>,
  },
  { requiredKeys: ['t', 'c'] },
)

/** Valid requests of every command, as a node sends them: the mutation corpus. */
const samples = [
  encodeRequest({ t: 1, c: Command.PING, to }, {}),
  encodeRequest(
    { t: 2, c: Command.FIND_NODE, to, id: new Uint8Array(32).fill(1) },
    { tg: new Uint8Array(32) },
  ),
  encodeRequest({ t: 3, c: Command.GET, to }, { ns: 'pairing', k: new Uint8Array(32).fill(2), o: 1 }),
  encodeRequest(
    { t: 4, c: Command.PUT, to },
    {
      ns: 'pairing',
      k: new Uint8Array(32).fill(2),
      tk: new Uint8Array(16),
      r: signRecord(
        'pairing',
        new Uint8Array(32).fill(2),
        { seq: 1, expiresAt: NOW + 1000, value: utf8('v') },
        keyPair,
      ),
    },
  ),
  encodeResponse({ t: 5, c: Command.FIND_NODE, to }, { n: [to, to] }, MAX_DATAGRAM_BYTES)!,
]
const sampleMaps = samples.map((bytes) => decodeCbor(z.record(z.string(), z.unknown()), bytes))

/** A decoded message minus its padding, for comparing with what was encoded. */
function withoutPadding(message: Record<string, unknown>): Record<string, unknown> {
  const { z: _padding, ...rest } = message
  return rest
}

t.test('every valid request and response decodes to what was encoded', async (t) => {
  fc.assert(
    fc.property(request, ({ t: tx, c, id, ...body }) => {
      const decoded = decodeMessage(encodeRequest({ t: tx, c, to, id }, body))
      return decoded !== null && sameValue(withoutPadding(decoded), { y: 0, v: 1, t: tx, c, to, id, ...body })
    }),
    runs(300),
  )
  fc.assert(
    fc.property(response, ({ t: tx, c, id, ...body }) => {
      const bytes = encodeResponse({ t: tx, c, to, id }, body, 64 * 1024)!
      fc.pre(bytes.length <= MAX_DATAGRAM_BYTES)
      return sameValue(decodeMessage(bytes), { y: 1, v: 1, t: tx, c, to, id, ...body })
    }),
    runs(300),
  )
  t.pass('600 random requests and responses round-tripped')
})

t.test('garbage, mutations and wrong-typed fields decode to null or a schema-valid message', async (t) => {
  let accepted = 0
  fc.assert(
    fc.property(fc.oneof(garbageOr(samples, 1300), cborFieldMutationOf(sampleMaps)), (bytes) => {
      const message = decodeMessage(bytes)
      if (message === null) return true
      accepted++
      return bytes.length <= MAX_DATAGRAM_BYTES && MessageSchema.safeParse(message).success
    }),
    runs(3000),
  )
  t.ok(accepted > 0, `some mutations stay valid messages (${accepted}), so the property saw both outcomes`)
})

t.test(
  'a core fed garbage from 2,000 sources never throws, keeps bounded state and still answers',
  async (t) => {
    const core = makeCore({ limits: { requestsPerSecond: Number.POSITIVE_INFINITY } })
    let source = 0
    let repliesOverBudget = 0
    fc.assert(
      fc.property(fc.oneof(garbageOr(samples, 1300), cborFieldMutationOf(sampleMaps)), (bytes) => {
        core.receive(bytes, peer(source++ % 2000), NOW + source)
        for (const out of drain(core))
          if (out.bytes.length > replyBudget(Math.max(bytes.length, 1))) repliesOverBudget++
        core.handleTimeout(NOW + source)
      }),
      runs(4000),
    )
    t.equal(repliesOverBudget, 0, 'no reply exceeded 3x the datagram that caused it')
    t.ok(core.counters.malformed > 0, 'malformed input was counted')
    t.ok(core.tableSize <= 256 * K, `routing table bounded (${core.tableSize})`)
    t.ok(core.storeStats().bytes <= core.limits.storeBytes, 'record store within its byte limit')
    const reply = ask(core, peer(9999), Command.PING, {}, { now: NOW + source + 1 })
    t.equal(reply?.message.y, 1, 'a fresh source still gets its PING answered')
  },
)
