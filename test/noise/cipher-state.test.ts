/** CipherState (Noise §5.1, §11.3) beyond the vectors: rekey, nonce limit, streaming, failures. */
import { chacha20poly1305 } from '@noble/ciphers/chacha.js'
import t from 'tap'
import { concatBytes, fromHex, MAX_NONCE, randomBytes, toHex } from '../../lib/crypto/index.js'
import { CipherState } from '../../lib/noise/cipher-state.js'

const empty = new Uint8Array(0)

function keyed(key: Uint8Array, n = 0): CipherState {
  const state = new CipherState()
  state.initializeKey(key)
  state.setNonce(n)
  return state
}

t.test('without a key, EncryptWithAd and DecryptWithAd return their input', async (t) => {
  const state = new CipherState()
  const data = Uint8Array.of(1, 2, 3)
  t.notOk(state.hasKey())
  t.same(state.encryptWithAd(empty, data), data)
  t.same(state.decryptWithAd(empty, data), data)
  t.equal(state.n, 0)
})

t.test('encryption matches @noble/ciphers ChaCha20-Poly1305 with the Noise nonce layout', async (t) => {
  const key = randomBytes(32)
  const ad = randomBytes(7)
  const plaintext = randomBytes(100)
  const n = 2 ** 32 + 5
  const nonce = fromHex('00000000' + toHex(Uint8Array.of(5, 0, 0, 0, 1, 0, 0, 0)))
  const expected = chacha20poly1305(key, nonce, ad).encrypt(plaintext)
  t.equal(toHex(keyed(key, n).encryptWithAd(ad, plaintext)), toHex(expected))
})

t.test('Rekey is ENCRYPT(k, 2^64-1, empty, zeros)[0:32] and leaves n alone', async (t) => {
  const key = randomBytes(32)
  const state = keyed(key, 9)
  state.rekey()
  t.equal(state.n, 9)
  const maxNonce = fromHex('00000000ffffffffffffffff')
  const newKey = chacha20poly1305(key, maxNonce).encrypt(new Uint8Array(32)).subarray(0, 32)
  const plaintext = randomBytes(20)
  t.equal(
    toHex(state.encryptWithAd(empty, plaintext)),
    toHex(keyed(newKey, 9).encryptWithAd(empty, plaintext)),
  )
})

t.test('the nonce limit is enforced with NOISE_NONCE_EXHAUSTED', async (t) => {
  const key = randomBytes(32)
  const sender = keyed(key, MAX_NONCE - 1)
  const last = sender.encryptWithAd(empty, Uint8Array.of(1))
  t.equal(sender.n, MAX_NONCE)
  t.throws(() => sender.encryptWithAd(empty, Uint8Array.of(1)), { code: 'NOISE_NONCE_EXHAUSTED' })
  t.same(keyed(key, MAX_NONCE - 1).decryptWithAd(empty, last), Uint8Array.of(1))
  t.throws(() => keyed(key, MAX_NONCE).decryptWithAd(empty, last), { code: 'NOISE_NONCE_EXHAUSTED' })
})

t.test('a failed decryption throws NOISE_DECRYPT_FAILED and does not advance n', async (t) => {
  const key = randomBytes(32)
  const ciphertext = keyed(key).encryptWithAd(empty, randomBytes(30))
  const receiver = keyed(key)
  const tampered = Uint8Array.from(ciphertext)
  tampered[3]! ^= 1
  t.throws(() => receiver.decryptWithAd(empty, tampered), { code: 'NOISE_DECRYPT_FAILED', remote: true })
  t.throws(() => receiver.decryptWithAd(empty, ciphertext.subarray(0, 15)), { code: 'NOISE_DECRYPT_FAILED' })
  t.equal(receiver.n, 0)
  t.equal(receiver.decryptWithAd(empty, ciphertext).length, 30)
  t.equal(receiver.n, 1)
})

t.test('streaming encryption in pieces equals EncryptWithAd', async (t) => {
  const key = randomBytes(32)
  const plaintext = randomBytes(1000)
  const sealer = keyed(key).beginEncrypt(empty)
  const pieces = [sealer.update(plaintext.subarray(0, 1)), sealer.update(plaintext.subarray(1, 700))]
  pieces.push(sealer.update(plaintext.subarray(700)), sealer.final())
  t.equal(toHex(concatBytes(...pieces)), toHex(keyed(key).encryptWithAd(empty, plaintext)))
})
