/** Property tests of presence records, link messages and the connection preamble (`spec/presence.md`). */
import fc from 'fast-check'
import t from 'tap'
import { encodeCbor } from '../../lib/cbor.js'
import { chachaSeal, concatBytes, Ed25519KeyPair, utf8 } from '../../lib/crypto/index.js'
import {
  decodeLinkMessage,
  encodeLinkMessage,
  encodePreamble,
  epochKeys,
  type LinkMessage,
  openPresence,
  PresenceError,
  parsePreamble,
  presenceConstants,
  sealPresence,
} from '../../lib/presence/index.js'
import {
  advertAddress,
  cborFieldMutationOf,
  cborValue,
  garbageOr,
  outcome,
  runs,
  sameValue,
} from '../fuzz/helpers/arbitraries.js'

const alice = Ed25519KeyPair.fromSeed(new Uint8Array(32).fill(1))
const bob = Ed25519KeyPair.fromSeed(new Uint8Array(32).fill(2))
const keys = epochKeys(new Uint8Array(32).fill(3), alice.publicKey, 1000)
const context = { keys, publisherKey: alice.publicKey, recipientKey: bob.publicKey }
const staticKey = fc.uint8Array({ minLength: 32, maxLength: 32 })
const record = fc.record({ addresses: fc.array(advertAddress, { minLength: 1, maxLength: 8 }), staticKey })
const v = presenceConstants.PRESENCE_VERSION
const linkMessage: fc.Arbitrary<LinkMessage> = fc.oneof(
  fc.constant({ v, type: 'hello' } as const),
  fc.record({
    v: fc.constant(v),
    type: fc.constant('text' as const),
    text: fc.string({ maxLength: 200, unit: 'binary' }),
  }),
  fc.constant({ v, type: 'unpair' } as const),
  fc.record({
    v: fc.constant(v),
    type: fc.constant('error' as const),
    code: fc.constantFrom('PRESENCE_NOT_PAIRED' as const, 'PRESENCE_PROTOCOL' as const),
  }),
)

t.test('sealed records open to their addresses (as many as fit) and static key', async (t) => {
  fc.assert(
    fc.property(record, (r) => {
      const opened = openPresence(sealPresence(r, { ...context, identity: alice }), context)
      return (
        sameValue(opened.staticKey, r.staticKey) &&
        opened.addresses.length >= 1 &&
        sameValue(opened.addresses, r.addresses.slice(0, opened.addresses.length))
      )
    }),
    runs(200),
  )
  t.pass('200 records round-tripped')
})

t.test('garbage and mutated sealed records are PRESENCE_BAD_RECORD', async (t) => {
  const samples = fc
    .sample(record, { numRuns: 4, seed: 3 })
    .map((r) => sealPresence(r, { ...context, identity: alice }))
  fc.assert(
    fc.property(garbageOr(samples, 700), (value) => {
      const result = outcome(() => openPresence(value, context), PresenceError, ['PRESENCE_BAD_RECORD'])
      return result === 'PRESENCE_BAD_RECORD' || samples.some((s) => Buffer.from(s).equals(value))
    }),
    runs(1500),
  )
  t.pass('1500 forged records held the property')
})

/**
 * `inner` sealed with the epoch key as a publisher would (`spec/presence.md` §2): so the CBOR and
 * signature checks, not the AEAD, meet it.
 */
function sealInner(inner: Uint8Array, declaredLength = inner.length): Uint8Array {
  const { PRESENCE_NONCE_BYTES, PRESENCE_PLAINTEXT_BYTES, RECORD_AD_LABEL } = presenceConstants
  const plaintext = new Uint8Array(PRESENCE_PLAINTEXT_BYTES)
  new DataView(plaintext.buffer).setUint16(0, declaredLength)
  plaintext.set(inner.subarray(0, PRESENCE_PLAINTEXT_BYTES - 2), 2)
  const nonce = new Uint8Array(PRESENCE_NONCE_BYTES).fill(9)
  const ad = concatBytes(utf8(`${RECORD_AD_LABEL}\0`), keys.dhtKey)
  return concatBytes(nonce, chachaSeal(keys.aeadKey, nonce, ad, plaintext))
}

t.test(
  'authentic ciphertext of wrong-typed maps, bad lengths or bad signatures is PRESENCE_BAD_RECORD',
  async (t) => {
    const inner = {
      v,
      addrs: [{ host: '192.0.2.1', port: 1, transport: 'tcp' }],
      noise: new Uint8Array(32),
      sig: new Uint8Array(64),
    }
    const input = fc.oneof(
      cborFieldMutationOf([inner]).map((bytes) => sealInner(bytes)),
      cborValue.map((value) => sealInner(encodeCbor(value))),
      fc
        .tuple(fc.uint8Array({ maxLength: 100 }), fc.nat(0xffff))
        .map(([bytes, length]) => sealInner(bytes, length)),
    )
    fc.assert(
      fc.property(
        input,
        (value) =>
          outcome(() => openPresence(value, context), PresenceError, ['PRESENCE_BAD_RECORD']) ===
          'PRESENCE_BAD_RECORD',
      ),
      runs(1000),
    )
    t.pass('every unsigned or malformed inner map was refused (none carries a valid signature)')
  },
)

t.test('link messages round-trip; garbage and wrong-typed maps are PRESENCE_PROTOCOL', async (t) => {
  fc.assert(
    fc.property(linkMessage, (m) => sameValue(decodeLinkMessage(encodeLinkMessage(m)), m)),
    runs(300),
  )
  const samples = fc.sample(linkMessage, { numRuns: 8, seed: 4 })
  const encoded = samples.map(encodeLinkMessage)
  let refused = 0
  fc.assert(
    fc.property(fc.oneof(garbageOr(encoded, 200), cborFieldMutationOf(samples)), (bytes) => {
      const result = outcome(() => decodeLinkMessage(bytes), PresenceError, ['PRESENCE_PROTOCOL'])
      if (result === 'PRESENCE_PROTOCOL') refused++
      return result === 'ok' || result === 'PRESENCE_PROTOCOL'
    }),
    runs(2000),
  )
  t.ok(refused > 1000, `most were refused (${refused} of 2000)`)
})

t.test('only the two preambles parse; every other 8 bytes (or length) is null', async (t) => {
  const pairing = encodePreamble('pairing')
  const reconnect = encodePreamble('reconnect')
  t.equal(parsePreamble(pairing), 'pairing')
  t.equal(parsePreamble(reconnect), 'reconnect')
  fc.assert(
    fc.property(garbageOr([pairing, reconnect], 12), (bytes) => {
      const purpose = parsePreamble(bytes)
      const expected = Buffer.from(bytes).equals(pairing)
        ? 'pairing'
        : Buffer.from(bytes).equals(reconnect)
          ? 'reconnect'
          : null
      return purpose === expected
    }),
    runs(2000),
  )
})
