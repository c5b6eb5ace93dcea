import fc from 'fast-check'
import t from 'tap'
import { z } from 'zod'
import { encodeCbor, tryDecodeCbor } from '../../lib/cbor.js'
import { fromHex } from '../../lib/crypto/index.js'
import { decodeDatagram, encodeDatagram } from '../../lib/dht/fast-cbor.js'

const anything = z.unknown()

/** Values of the CBOR subset DHT datagrams use, nested like messages and records. */
const leaf = fc.oneof(
  fc.uint8Array({ maxLength: 40 }),
  fc.string({ maxLength: 20 }),
  fc.maxSafeNat(),
  fc.integer({ min: -1000, max: -1 }),
  fc.boolean(),
)
const value = fc.letrec((tie) => ({
  node: fc.oneof({ depthSize: 'small' }, leaf, tie('array'), tie('map')),
  array: fc.array(tie('node'), { maxLength: 5 }),
  map: fc.dictionary(fc.string({ minLength: 1, maxLength: 6 }), tie('node'), { maxKeys: 6 }),
})).node

t.test('decodeDatagram reads what lib/cbor writes, as lib/cbor reads it', async (t) => {
  fc.assert(
    fc.property(value, (input) => {
      const bytes = encodeCbor(input)
      t.same(decodeDatagram(bytes), tryDecodeCbor(anything, bytes))
    }),
    { numRuns: 300 },
  )
  const message = { y: 1, v: 1, t: 7, c: 1, to: Uint8Array.of(127, 0, 0, 1, 0, 80), n: [Uint8Array.of(1)] }
  t.same(decodeDatagram(encodeDatagram(message)), message, 'a message from the fast encoder')
})

t.test('whatever decodeDatagram accepts, lib/cbor decodes to the same value', async (t) => {
  const sample = encodeCbor({ y: 0, v: 1, t: 1_800_000_000_000, ns: 'pairing', n: [Uint8Array.of(1, 2)] })
  fc.assert(
    fc.property(fc.nat(sample.length - 1), fc.nat(255), fc.uint8Array({ maxLength: 3 }), (at, byte, tail) => {
      const mutated = Uint8Array.from([...sample, ...tail])
      mutated[at] = byte
      const fast = decodeDatagram(mutated)
      if (fast !== null) t.same(fast, tryDecodeCbor(anything, mutated))
    }),
    { numRuns: 500 },
  )
})

t.test('decodeDatagram rejects what the subset excludes, with null', async (t) => {
  const cases: [string, string][] = [
    ['c11a514b67b0', 'a tag'],
    ['fb3ff199999999999a', 'a float'],
    ['f7', 'undefined'],
    ['1bffffffffffffffff', 'an integer beyond 2^53-1'],
    ['5f4101ff', 'an indefinite-length byte string'],
    ['a201010102', 'a non-text map key'],
    ['a2617801617802', 'a duplicate map key'],
    ['a1695f5f70726f746f5f5f01', 'a __proto__ key'],
    ['0000', 'a trailing byte'],
    ['430102', 'a truncated byte string'],
    ['62c328', 'invalid UTF-8'],
    ['', 'nothing'],
  ]
  for (const [hex, what] of cases) t.equal(decodeDatagram(fromHex(hex)), null, what)
  let deep = new Uint8Array(0)
  for (let i = 0; i < 20; i++) deep = Uint8Array.from([0x81, ...deep])
  t.equal(decodeDatagram(Uint8Array.from([...deep, 0])), null, 'nesting deeper than 16')
})
