import t from 'tap'
import { z } from 'zod'
import { DecodeError, decodeCbor, encodeCbor, tryDecodeCbor } from '../lib/cbor.js'
import { fromHex, toHex } from '../lib/crypto/index.js'

const schema = z.object({ v: z.number().int(), id: z.instanceof(Uint8Array), name: z.string() })

t.test('encoding is deterministic: keys sorted by length then bytes, byte strings untagged', async (t) => {
  const bytes = encodeCbor({ name: 'a', v: 1, id: Uint8Array.of(1, 2) })
  // {"v": 1, "id": h'0102', "name": "a"}
  t.equal(toHex(bytes), 'a3617601626964420102646e616d656161')
  t.same(encodeCbor({ id: Uint8Array.of(1, 2), v: 1, name: 'a' }), bytes)
})

t.test('round trip through the schema gives Uint8Array byte strings', async (t) => {
  const value = decodeCbor(schema, encodeCbor({ v: 7, id: Uint8Array.of(9), name: 'x' }))
  t.equal(value.v, 7)
  t.equal(Object.getPrototypeOf(value.id), Uint8Array.prototype)
  t.same([...value.id], [9])
})

t.test('malformed, trailing, tagged and float input is a DecodeError', async (t) => {
  const good = encodeCbor({ v: 1, id: Uint8Array.of(), name: '' })
  t.throws(() => decodeCbor(schema, good.subarray(0, good.length - 1)), DecodeError)
  t.throws(() => decodeCbor(schema, Uint8Array.from([...good, 0])), { code: 'DECODE_FAILED' })
  t.throws(() => decodeCbor(z.unknown(), fromHex('c11a514b67b0')), DecodeError, 'tag 1')
  t.throws(() => decodeCbor(z.unknown(), fromHex('fb3ff199999999999a')), DecodeError, 'float')
  t.throws(() => decodeCbor(schema, encodeCbor({ v: 'no' })), DecodeError, 'schema')
  t.equal(tryDecodeCbor(schema, fromHex('ff')), null)
  t.throws(() => encodeCbor({ v: 1.5 }), TypeError)
})

t.test('random bytes never throw anything but DecodeError', async (t) => {
  let decoded = 0
  for (let i = 0; i < 2000; i++) {
    const bytes = new Uint8Array(1 + (i % 40)).map(() => Math.floor(Math.random() * 256))
    try {
      decodeCbor(z.unknown(), bytes)
      decoded++
    } catch (err) {
      if (!(err instanceof DecodeError)) t.fail(`unexpected ${String(err)}`)
    }
  }
  t.ok(decoded < 2000, 'most random inputs are rejected')
})

t.test(
  'integers beyond 32 bits use the 8-byte integer form, never float64, and decode as Numbers',
  async (t) => {
    const ms = 1_795_828_008_915
    t.equal(toHex(encodeCbor({ t: ms })), 'a161741b000001a21fb0c7d3')
    t.equal(toHex(encodeCbor({ t: -ms })), 'a161743b000001a21fb0c7d2')
    t.same(decodeCbor(z.object({ t: z.number() }), encodeCbor({ t: ms })), { t: ms })
    t.same(decodeCbor(z.object({ t: z.number() }), encodeCbor({ t: 0xffffffff })), { t: 0xffffffff })
    t.throws(() => decodeCbor(z.unknown(), fromHex('1bffffffffffffffff')), DecodeError, 'beyond 2^53')
    t.throws(() => encodeCbor({ t: 2 ** 60 }), TypeError)
  },
)
