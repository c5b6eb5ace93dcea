import { chacha20poly1305 } from '@noble/ciphers/chacha.js'
import { ed25519, x25519 } from '@noble/curves/ed25519.js'
import { hkdf } from '@noble/hashes/hkdf.js'
import { hmac } from '@noble/hashes/hmac.js'
import { sha256 as nobleSha256 } from '@noble/hashes/sha2.js'
import t from 'tap'
import {
  CryptoError,
  chachaOpen,
  chachaSeal,
  Ed25519KeyPair,
  ed25519Verify,
  fromHex,
  hmacSha256,
  noiseHkdf,
  noiseNonce,
  randomBytes,
  sha256,
  toHex,
  X25519KeyPair,
} from '../../lib/crypto/index.js'

const ROUNDS = 50

t.test('X25519 matches RFC 7748 §6.1', async (t) => {
  const alice = X25519KeyPair.fromPrivateKey(
    fromHex('77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a'),
  )
  const bob = X25519KeyPair.fromPrivateKey(
    fromHex('5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb'),
  )
  t.equal(toHex(alice.publicKey), '8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a')
  t.equal(toHex(bob.publicKey), 'de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f')
  const shared = '4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742'
  t.equal(toHex(alice.dh(bob.publicKey)), shared)
  t.equal(toHex(bob.dh(alice.publicKey)), shared)
})

t.test('X25519 agrees with @noble on random keys', async (t) => {
  for (let i = 0; i < ROUNDS; i++) {
    const a = X25519KeyPair.generate()
    const peer = randomBytes(32)
    t.same(a.publicKey, x25519.getPublicKey(a.privateKey))
    t.same(a.dh(x25519.getPublicKey(peer)), x25519.getSharedSecret(a.privateKey, x25519.getPublicKey(peer)))
  }
})

t.test('X25519 matches a peer key by its bytes, not by the array that held them', async (t) => {
  const local = X25519KeyPair.generate()
  const [first, second] = [X25519KeyPair.generate(), X25519KeyPair.generate()]
  const peer = Uint8Array.from(first.publicKey)
  t.same(local.dh(peer), first.dh(local.publicKey))
  peer.set(second.publicKey)
  t.same(local.dh(peer), second.dh(local.publicKey), 'the same array, new bytes: a new key')
  t.same(local.dh(Uint8Array.from(first.publicKey)), first.dh(local.publicKey), 'a new array, old bytes')
})

t.test('X25519 rejects a small-order peer key with a typed error', async (t) => {
  const zero = new Uint8Array(32)
  t.throws(() => X25519KeyPair.generate().dh(zero), { code: 'CRYPTO_INVALID_KEY' })
  t.throws(() => X25519KeyPair.generate().dh(new Uint8Array(31)), { code: 'CRYPTO_BAD_LENGTH' })
})

t.test('Ed25519 matches RFC 8032 §7.1 test 2', async (t) => {
  const key = Ed25519KeyPair.fromSeed(
    fromHex('4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb'),
  )
  t.equal(toHex(key.publicKey), '3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c')
  const signature = key.sign(fromHex('72'))
  t.equal(
    toHex(signature),
    '92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da' +
      '085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00',
  )
  t.ok(ed25519Verify(key.publicKey, fromHex('72'), signature))
  t.notOk(ed25519Verify(key.publicKey, fromHex('73'), signature))
})

t.test('Ed25519 agrees with @noble on random keys and messages', async (t) => {
  for (let i = 0; i < ROUNDS; i++) {
    const key = Ed25519KeyPair.generate()
    const message = randomBytes(i * 7)
    const signature = key.sign(message)
    t.same(key.publicKey, ed25519.getPublicKey(key.seed))
    t.same(signature, ed25519.sign(message, key.seed))
    t.ok(ed25519.verify(signature, message, key.publicKey))
    signature[i % 64]! ^= 1
    t.notOk(ed25519Verify(key.publicKey, message, signature))
  }
})

t.test('Ed25519 verify returns false on malformed inputs', async (t) => {
  const key = Ed25519KeyPair.generate()
  const signature = key.sign(Uint8Array.of(1))
  t.notOk(ed25519Verify(key.publicKey.subarray(1), Uint8Array.of(1), signature))
  t.notOk(ed25519Verify(key.publicKey, Uint8Array.of(1), signature.subarray(1)))
  t.notOk(ed25519Verify(new Uint8Array(32).fill(0xff), Uint8Array.of(1), signature))
})

t.test('ChaCha20-Poly1305 matches RFC 8439 §2.8.2', async (t) => {
  const key = fromHex('808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9f')
  const nonce = fromHex('070000004041424344454647')
  const ad = fromHex('50515253c0c1c2c3c4c5c6c7')
  const plaintext = new TextEncoder().encode(
    "Ladies and Gentlemen of the class of '99: If I could offer you only one tip for the future, sunscreen would be it.",
  )
  const expected = chacha20poly1305(key, nonce, ad).encrypt(plaintext)
  t.equal(
    toHex(expected.subarray(expected.length - 16)),
    '1ae10b594f09e26a7e902ecbd0600691',
    'noble reproduces the RFC tag',
  )
  // The RFC nonce is not of Noise's layout, so check the Noise layout against noble directly.
  const n = 0x0102030405
  const sealed = chachaSeal(key, n, ad, plaintext)
  t.same(sealed, chacha20poly1305(key, noiseNonce(n), ad).encrypt(plaintext))
  t.same(chachaOpen(key, n, ad, sealed), plaintext)
})

t.test('ChaCha20-Poly1305 agrees with @noble and rejects tampering', async (t) => {
  for (let i = 0; i < ROUNDS; i++) {
    const key = randomBytes(32)
    const ad = randomBytes(i % 5)
    const plaintext = randomBytes(i * 31)
    const n = i * 1_000_003
    const sealed = chachaSeal(key, n, ad, plaintext)
    t.same(sealed, chacha20poly1305(key, noiseNonce(n), ad).encrypt(plaintext))
    sealed[i % sealed.length]! ^= 0x80
    t.throws(() => chachaOpen(key, n, ad, sealed), CryptoError)
  }
  t.throws(() => chachaOpen(randomBytes(32), 0, new Uint8Array(0), new Uint8Array(15)), {
    code: 'CRYPTO_DECRYPT_FAILED',
  })
})

t.test('Noise nonce layout is 4 zero bytes then a 64-bit little-endian counter', async (t) => {
  t.equal(noiseNonce(0).toString('hex'), '000000000000000000000000')
  t.equal(noiseNonce(0x1_0000_0002).toString('hex'), '000000000200000001000000')
})

t.test('SHA-256, HMAC and Noise HKDF agree with @noble', async (t) => {
  t.equal(
    toHex(sha256(new TextEncoder().encode('abc'))),
    'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad',
  )
  for (let i = 0; i < ROUNDS; i++) {
    const key = randomBytes(32)
    const data = randomBytes(i * 13)
    t.same(sha256(data), nobleSha256(data))
    t.same(hmacSha256(key, data), hmac(nobleSha256, key, data))
    const [a, b, c] = noiseHkdf(key, data, 3)
    t.same(Buffer.concat([a, b, c]), Buffer.from(hkdf(nobleSha256, data, key, new Uint8Array(0), 96)))
  }
})
