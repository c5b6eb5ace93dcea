/** Property tests of punch records (`spec/holepunch.md` §3-§4) against arbitrary and forged values. */
import fc from 'fast-check'
import t from 'tap'
import { z } from 'zod'
import { decodeCbor } from '../../lib/cbor.js'
import { CryptoError } from '../../lib/crypto/errors.js'
import { Ed25519KeyPair } from '../../lib/crypto/index.js'
import {
  advertiserKeys,
  HolepunchError,
  joinerKeys,
  openMessage,
  type PunchMessage,
  presenceKeys,
  recordSalt,
  sealMessage,
} from '../../lib/holepunch/index.js'
import { cborFieldMutationOf, garbageOr, outcome, runs, sameValue } from '../fuzz/helpers/arbitraries.js'

const dhtKey = new Uint8Array(32).fill(4)
const keys = presenceKeys(new Uint8Array(32).fill(5), new Uint8Array(32).fill(6))
const nonce = fc.uint8Array({ minLength: 16, maxLength: 16 })
const endpoint = fc.record({
  host: fc.oneof(fc.ipV4(), fc.ipV6(), fc.domain()),
  port: fc.integer({ min: 1, max: 65535 }),
})
const nat = fc.constantFrom('none' as const, 'preserving' as const, 'changing' as const)
const message: fc.Arbitrary<PunchMessage> = fc.oneof(
  fc.record({ t: fc.constant('req' as const), n: nonce, addr: endpoint, nat, at: fc.maxSafeNat() }),
  fc.record({ t: fc.constant('ans' as const), n: nonce, addr: fc.option(endpoint, { nil: null }), nat }),
  fc.record({
    t: fc.constant('end' as const),
    n: nonce,
    why: fc.constantFrom(
      'no-path' as const,
      'no-answer' as const,
      'symmetric' as const,
      'responder-symmetric' as const,
    ),
  }),
)
/** `plain` (CBOR) sealed as a record, as a peer holding the keys could; null if too large to be one. */
function sealRaw(plain: Uint8Array, counter: number): Uint8Array | null {
  try {
    return sealMessage(dhtKey, keys, counter, decodeCbor(z.unknown(), plain) as PunchMessage)
  } catch (error) {
    if (error instanceof HolepunchError) return null
    throw error
  }
}
const fromOf = (m: { t: unknown }) => (m.t === 'ans' ? 'responder' : 'requester')

t.test('every punch message seals and opens to itself', async (t) => {
  fc.assert(
    fc.property(message, fc.nat(255), (m, counter) => {
      const value = sealMessage(dhtKey, keys, counter, m)
      return sameValue(openMessage(dhtKey, keys, fromOf(m), value), m)
    }),
    runs(500),
  )
  t.pass('500 messages round-tripped')
})

t.test('garbage, mutated and misdirected records are HOLEPUNCH_BAD_RECORD, nothing else', async (t) => {
  const samples = fc.sample(message, { numRuns: 6, seed: 1 }).map((m, i) => sealMessage(dhtKey, keys, i, m))
  fc.assert(
    fc.property(
      garbageOr(samples, 400),
      fc.constantFrom('requester' as const, 'responder' as const),
      (value, from) => {
        const result = outcome(() => openMessage(dhtKey, keys, from, value), HolepunchError, [
          'HOLEPUNCH_BAD_RECORD',
        ])
        // A mutation that cancelled out (e.g. a cut past the end) may still open in its own direction.
        return (
          result === 'HOLEPUNCH_BAD_RECORD' ||
          (result === 'ok' && samples.some((s) => Buffer.from(s).equals(value)))
        )
      },
    ),
    runs(2000),
  )
  t.pass('2000 forged records held the property')
})

t.test('authentic records with wrong-typed fields are HOLEPUNCH_BAD_RECORD or a valid message', async (t) => {
  const maps = fc.sample(message, { numRuns: 6, seed: 2 }).map((m) => ({ ...m }) as Record<string, unknown>)
  let refused = 0
  fc.assert(
    fc.property(cborFieldMutationOf(maps), fc.nat(255), (plain, counter) => {
      // Sealed with the real key, so the decoder (not the AEAD) meets the bad fields.
      const value = sealRaw(plain, counter)
      if (value === null) return true
      for (const from of ['requester', 'responder'] as const) {
        const result = outcome(() => openMessage(dhtKey, keys, from, value), HolepunchError, [
          'HOLEPUNCH_BAD_RECORD',
        ])
        if (result === 'HOLEPUNCH_BAD_RECORD') refused++
        else if (result !== 'ok') return false
      }
      return true
    }),
    runs(1000),
  )
  t.ok(refused > 1000, `most wrong-typed records were refused (${refused} of 2000 opens)`)
})

t.test(
  'any salt gives advertiser keys or CRYPTO_INVALID_KEY; garbage headers are HOLEPUNCH_BAD_RECORD',
  async (t) => {
    const advert = Ed25519KeyPair.fromSeed(new Uint8Array(32).fill(7))
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 80 }), (value) => {
        const salt = outcome(() => recordSalt(value), HolepunchError, ['HOLEPUNCH_BAD_RECORD'])
        if (salt !== 'ok') return value.length < 34 || value[0] !== 1
        const derived = outcome(() => advertiserKeys(advert, recordSalt(value)), CryptoError, [
          'CRYPTO_INVALID_KEY',
        ])
        return derived === 'ok' || derived === 'CRYPTO_INVALID_KEY'
      }),
      runs(1000),
    )
    const joiner = joinerKeys(advert.publicKey)
    t.same(advertiserKeys(advert, joiner.salt), joiner, 'a real joiner salt still derives the same keys')
  },
)
