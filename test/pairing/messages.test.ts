import fc from 'fast-check'
import t from 'tap'
import { encodeCbor } from '../../lib/cbor.js'
import { Ed25519KeyPair, randomBytes } from '../../lib/crypto/index.js'
import { decodeAdvert, encodeAdvert } from '../../lib/pairing/advert.js'
import { decodeMessage, encodeMessage, type PairingMessage } from '../../lib/pairing/messages.js'
import { v1Advert } from './helpers/v1.js'

const samples: PairingMessage[] = [
  { v: 2, type: 'hello', advert: randomBytes(32), share: randomBytes(32) },
  { v: 2, type: 'share', share: randomBytes(32) },
  { v: 2, type: 'confirm', mac: randomBytes(32) },
  {
    v: 2,
    type: 'accept',
    name: 'laptop',
    deviceType: 'desktop',
    identity: randomBytes(32),
    sig: randomBytes(64),
  },
  { v: 2, type: 'error', code: 'PAIRING_WRONG_CODE' },
]

t.test('every message round-trips', async (t) => {
  for (const message of samples) t.same(decodeMessage(encodeMessage(message)), message, message.type)
})

t.test('unknown version → PAIRING_UNSUPPORTED_VERSION; malformed → PAIRING_PROTOCOL', async (t) => {
  for (const v of [1, 3])
    t.throws(() => decodeMessage(encodeCbor({ v, type: 'share', share: randomBytes(32) })), {
      code: 'PAIRING_UNSUPPORTED_VERSION',
    })
  t.throws(() => decodeMessage(encodeCbor({ v: 2, type: 'share', share: randomBytes(31) })), {
    code: 'PAIRING_PROTOCOL',
  })
  t.throws(() => decodeMessage(encodeCbor({ v: 2, type: 'nope' })), { code: 'PAIRING_PROTOCOL' })
  t.throws(() => decodeMessage(encodeCbor({ v: 2, type: 'error', code: 'EVIL' })), {
    code: 'PAIRING_PROTOCOL',
  })
  t.throws(() => decodeMessage(Uint8Array.of(0xff)), { code: 'PAIRING_PROTOCOL' })
  t.throws(() => decodeMessage(encodeCbor({ v: 2, type: 'accept', name: '', deviceType: 'x' })), {
    code: 'PAIRING_PROTOCOL',
  })
})

t.test(
  'property: random and mutated bytes decode or throw a typed pairing error, nothing else',
  async (t) => {
    const encoded = samples.map(encodeMessage)
    const result = fc.check(
      fc.property(
        fc.nat(encoded.length - 1),
        fc.uint8Array({ maxLength: 8 }),
        fc.nat(200),
        (i, noise, at) => {
          const bytes = Uint8Array.from(encoded[i]!)
          noise.forEach((byte, j) => {
            const index = (at + j) % bytes.length
            bytes[index] = bytes[index]! ^ byte
          })
          try {
            decodeMessage(bytes)
            return true
          } catch (err) {
            return ['PAIRING_PROTOCOL', 'PAIRING_UNSUPPORTED_VERSION'].includes(
              (err as { code?: string }).code ?? '',
            )
          }
        },
      ),
      { numRuns: 2000 },
    )
    t.equal(result.failed, false, String(result.counterexample))
  },
)

t.test('advert: signed, bound to its rendezvous key and publisher, expiring', async (t) => {
  const key = Ed25519KeyPair.generate()
  const rendezvous = randomBytes(32)
  const now = 1_700_000_000_000
  const addresses = [{ host: '127.0.0.1', port: 4000, transport: 'tcp' as const }]
  const bytes = encodeAdvert(rendezvous, key, addresses, now + 300_000)
  t.same(decodeAdvert(rendezvous, bytes, key.publicKey, now), {
    version: 2,
    key: key.publicKey,
    addresses,
    expiresAt: now + 300_000,
  })
  t.equal(decodeAdvert(randomBytes(32), bytes, key.publicKey, now), null, 'other rendezvous key')
  t.equal(decodeAdvert(rendezvous, bytes, randomBytes(32), now), null, 'other publisher')
  t.equal(decodeAdvert(rendezvous, bytes, key.publicKey, now + 300_000), null, 'expired')
  t.equal(decodeAdvert(rendezvous, bytes, key.publicKey, now - 3_600_000), null, 'expiry too far ahead')
  const tampered = Uint8Array.from(bytes)
  tampered[tampered.length - 70] = tampered[tampered.length - 70]! ^ 1
  t.equal(decodeAdvert(rendezvous, tampered, key.publicKey, now), null, 'tampered')
  t.equal(decodeAdvert(rendezvous, Uint8Array.of(1, 2, 3), key.publicKey, now), null, 'garbage')
})

t.test('advert: addresses that do not fit in 700 bytes are dropped from the end', async (t) => {
  const key = Ed25519KeyPair.generate()
  const long = Array.from({ length: 8 }, (_, i) => ({
    host: `host-${i}.${'x'.repeat(60)}.example`,
    port: 40000 + i,
    transport: 'tcp' as const,
  }))
  const bytes = encodeAdvert(randomBytes(32), key, long, Date.now() + 60_000)
  t.ok(bytes.length <= 700)
  const rendezvous = randomBytes(32)
  const advert = decodeAdvert(
    rendezvous,
    encodeAdvert(rendezvous, key, long, Date.now() + 60_000),
    key.publicKey,
    Date.now(),
  )
  t.ok(advert !== null && advert.addresses.length < 8 && advert.addresses.length > 0)
  t.same(advert?.addresses[0], long[0])
  t.throws(() => encodeAdvert(rendezvous, key, [], Date.now()), { code: 'PAIRING_BAD_OPTION' })
})

t.test('advert: a v1 advert verifies as version 1; unknown keys and versions are refused', async (t) => {
  const key = Ed25519KeyPair.generate()
  const rendezvous = randomBytes(32)
  const now = 1_700_000_000_000
  const addresses = [{ host: '127.0.0.1', port: 4000, transport: 'tcp' as const }]
  const v1 = v1Advert(rendezvous, key, addresses, now + 60_000)
  t.match(decodeAdvert(rendezvous, v1, key.publicKey, now), { version: 1, addresses })
  const signedExtra = v1Advert(rendezvous, key, addresses, now + 60_000, { v: 2, extra: { note: 'x' } })
  t.equal(decodeAdvert(rendezvous, signedExtra, key.publicKey, now), null, 'a signed unknown key')
  const v3 = v1Advert(rendezvous, key, addresses, now + 60_000, { v: 3 })
  t.equal(decodeAdvert(rendezvous, v3, key.publicKey, now), null, 'version 3')
  const v2 = v1Advert(rendezvous, key, addresses, now + 60_000, { v: 2 })
  t.same(v2, encodeAdvert(rendezvous, key, addresses, now + 60_000), 'v2 differs from v1 only in v')
})
