import {
  type CipherChaCha20Poly1305,
  createCipheriv,
  createDecipheriv,
  type DecipherChaCha20Poly1305,
} from 'node:crypto'
import { MAX_NONCE } from '../crypto/index.js'
import { KEYLEN, TAGLEN } from './constants.js'
import { NoiseError } from './errors.js'

/** The ChaCha20-Poly1305 nonce of n = 2^64 − 1 that Rekey uses (Noise §4.2, §12.3): not a JS number. */
const REKEY_NONCE = Buffer.from('00000000ffffffffffffffff', 'hex')
const ZEROS = Buffer.alloc(KEYLEN)
const EMPTY = Buffer.alloc(0)
/** `plaintextLength` matters only to CCM; node's typings require it for ChaCha20-Poly1305 too. */
const AAD_OPTIONS = { plaintextLength: 0 }

/**
 * One AEAD encryption in progress: `update` the plaintext in pieces, then `final` returns the tag.
 * ChaCha20 is a stream cipher, so each `update` returns exactly as many bytes as it was given; the transport
 * writes those pieces out as they come instead of concatenating them.
 */
export interface Sealer {
  update(plaintext: Uint8Array): Buffer
  final(): Buffer
}

/** One AEAD decryption in progress: `update` the ciphertext in pieces, then `final(tag)` verifies (or throws). */
export interface Opener {
  update(ciphertext: Uint8Array): Buffer
  final(tag: Uint8Array): void
}

/**
 * Noise CipherState (revision 34 §5.1): a key `k` (or none) and a nonce `n`, for ChaCha20-Poly1305.
 * Departure: `n` is a JS number and the state refuses `n ≥ MAX_NONCE` (2^53 − 1) instead of 2^64 − 1
 * (`spec/noise.md` §6). {@link beginEncrypt} / {@link beginDecrypt} are the streaming forms of
 * EncryptWithAd / DecryptWithAd the framed transport uses to avoid copies; both consume one nonce.
 */
export class CipherState {
  #k: Buffer | undefined
  readonly #iv = Buffer.alloc(12)
  /** The next nonce (Noise §5.1 `n`). */
  n = 0

  /** InitializeKey(key): sets `k` (or clears it with `undefined`) and `n = 0`. */
  initializeKey(key: Uint8Array | undefined): void {
    this.#k = key === undefined ? undefined : Buffer.from(key)
    this.n = 0
  }

  /** HasKey(): true once a key is set. */
  hasKey(): boolean {
    return this.#k !== undefined
  }

  /** SetNonce(nonce): used by tests and by applications that manage nonces out of order (Noise §5.1). */
  setNonce(nonce: number): void {
    this.n = nonce
  }

  /** EncryptWithAd(ad, plaintext): ciphertext || tag under nonce `n`, or the plaintext itself without a key. */
  encryptWithAd(ad: Uint8Array, plaintext: Uint8Array): Uint8Array {
    if (this.#k === undefined) return plaintext
    const sealer = this.beginEncrypt(ad)
    return new Uint8Array(Buffer.concat([sealer.update(plaintext), sealer.final()]))
  }

  /** DecryptWithAd(ad, ciphertext): the plaintext, or throws `NOISE_DECRYPT_FAILED`; `n` advances on success only. */
  decryptWithAd(ad: Uint8Array, ciphertext: Uint8Array): Uint8Array {
    if (this.#k === undefined) return ciphertext
    if (ciphertext.length < TAGLEN) throw NoiseError.decryptFailed()
    const body = ciphertext.subarray(0, ciphertext.length - TAGLEN)
    const opener = this.beginDecrypt(ad)
    const plaintext = opener.update(body)
    opener.final(ciphertext.subarray(body.length))
    return new Uint8Array(plaintext.buffer, plaintext.byteOffset, plaintext.byteLength)
  }

  /** Rekey(): `k = ENCRYPT(k, 2^64 − 1, zerolen, zeros)[0:32]` (Noise §4.2, §11.3); `n` is unchanged. */
  rekey(): void {
    if (this.#k === undefined) throw NoiseError.misuse('CipherState has no key')
    const cipher = this.#cipher(REKEY_NONCE, EMPTY)
    this.#k = cipher.update(ZEROS)
    cipher.final()
  }

  /** Starts EncryptWithAd in pieces under nonce `n` and advances `n`. Requires a key. */
  beginEncrypt(ad: Uint8Array): Sealer {
    return new StreamingSeal(this.#cipher(this.#nonce(this.#takeNonce()), ad))
  }

  /** Starts DecryptWithAd in pieces under nonce `n`; `final(tag)` verifies and only then advances `n`. */
  beginDecrypt(ad: Uint8Array): Opener {
    this.#checkNonce()
    return new StreamingOpen(this.#decipher(this.#nonce(this.n), ad), this)
  }

  /**
   * The nonce of `n` (Noise §12.3: 32 zero bits, then `n` as 64-bit little-endian) in this state's one IV
   * buffer: createCipheriv copies the IV, so one buffer serves every message without an allocation each.
   */
  #nonce(n: number): Buffer {
    this.#iv.writeUInt32LE(n >>> 0, 4)
    this.#iv.writeUInt32LE(Math.floor(n / 0x100000000), 8)
    return this.#iv
  }

  #takeNonce(): number {
    this.#checkNonce()
    return this.n++
  }

  #checkNonce(): void {
    if (this.#k === undefined) throw NoiseError.misuse('CipherState has no key')
    if (this.n >= MAX_NONCE) throw NoiseError.nonceExhausted()
  }

  #cipher(iv: Buffer, ad: Uint8Array): CipherChaCha20Poly1305 {
    const cipher = createCipheriv('chacha20-poly1305', this.#k!, iv, { authTagLength: TAGLEN })
    if (ad.length > 0) cipher.setAAD(ad, AAD_OPTIONS)
    return cipher
  }

  #decipher(iv: Buffer, ad: Uint8Array): DecipherChaCha20Poly1305 {
    const decipher = createDecipheriv('chacha20-poly1305', this.#k!, iv, { authTagLength: TAGLEN })
    if (ad.length > 0) decipher.setAAD(ad, AAD_OPTIONS)
    return decipher
  }
}

/** A {@link Sealer} over one node:crypto cipher (a class, not closures: the transport makes one per frame). */
class StreamingSeal implements Sealer {
  readonly #cipher: CipherChaCha20Poly1305

  constructor(cipher: CipherChaCha20Poly1305) {
    this.#cipher = cipher
  }

  update(plaintext: Uint8Array): Buffer {
    return this.#cipher.update(plaintext)
  }

  final(): Buffer {
    this.#cipher.final()
    return this.#cipher.getAuthTag()
  }
}

/** An {@link Opener} over one node:crypto decipher; a verified tag advances the owning state's nonce. */
class StreamingOpen implements Opener {
  readonly #decipher: DecipherChaCha20Poly1305
  readonly #state: CipherState

  constructor(decipher: DecipherChaCha20Poly1305, state: CipherState) {
    this.#decipher = decipher
    this.#state = state
  }

  update(ciphertext: Uint8Array): Buffer {
    return this.#decipher.update(ciphertext)
  }

  final(tag: Uint8Array): void {
    try {
      this.#decipher.setAuthTag(tag)
      this.#decipher.final()
    } catch (cause) {
      throw NoiseError.decryptFailed(cause)
    }
    this.#state.n++
  }
}
