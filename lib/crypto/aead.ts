import { createCipheriv, createDecipheriv } from 'node:crypto'
import { asBuffer } from './bytes.js'
import { assertLength, CryptoError } from './errors.js'

/** Authentication tag length of ChaCha20-Poly1305 (RFC 8439 §2.8). */
export const TAG_LENGTH = 16
/** The largest nonce value this implementation accepts (Number.MAX_SAFE_INTEGER; see spec/noise.md). */
export const MAX_NONCE = Number.MAX_SAFE_INTEGER

/**
 * The 96-bit ChaCha20-Poly1305 nonce Noise uses (revision 34 §12.3): 32 zero bits followed by the
 * 64-bit little-endian counter `n`.
 */
export function noiseNonce(n: number): Buffer {
  const iv = Buffer.alloc(12)
  iv.writeUInt32LE(n >>> 0, 4)
  iv.writeUInt32LE(Math.floor(n / 0x100000000), 8)
  return iv
}

/** A Noise counter (see {@link noiseNonce}) or a raw 12-byte nonce (e.g. a random one). */
export type AeadNonce = number | Uint8Array

function nonceBytes(nonce: AeadNonce): Buffer {
  if (typeof nonce === 'number') return noiseNonce(nonce)
  assertLength('ChaCha20-Poly1305 nonce', nonce, 12)
  return asBuffer(nonce)
}

/** ChaCha20-Poly1305 encryption (RFC 8439 §2.8): returns ciphertext || 16-byte tag. */
export function chachaSeal(key: Uint8Array, n: AeadNonce, ad: Uint8Array, plaintext: Uint8Array): Uint8Array {
  assertLength('ChaCha20-Poly1305 key', key, 32)
  const cipher = createCipheriv('chacha20-poly1305', key, nonceBytes(n), { authTagLength: TAG_LENGTH })
  cipher.setAAD(ad, { plaintextLength: plaintext.length })
  const head = cipher.update(plaintext)
  const tail = cipher.final()
  return new Uint8Array(Buffer.concat([head, tail, cipher.getAuthTag()]))
}

/**
 * ChaCha20-Poly1305 decryption (RFC 8439 §2.8) of ciphertext || tag. Throws {@link CryptoError}
 * `CRYPTO_DECRYPT_FAILED` when the tag does not verify or the input is shorter than a tag.
 */
export function chachaOpen(key: Uint8Array, n: AeadNonce, ad: Uint8Array, sealed: Uint8Array): Uint8Array {
  assertLength('ChaCha20-Poly1305 key', key, 32)
  if (sealed.length < TAG_LENGTH) throw CryptoError.decryptFailed()
  const body = sealed.subarray(0, sealed.length - TAG_LENGTH)
  const decipher = createDecipheriv('chacha20-poly1305', key, nonceBytes(n), { authTagLength: TAG_LENGTH })
  decipher.setAuthTag(sealed.subarray(sealed.length - TAG_LENGTH))
  decipher.setAAD(ad, { plaintextLength: body.length })
  const head = decipher.update(body)
  try {
    return new Uint8Array(Buffer.concat([head, decipher.final()]))
  } catch {
    throw CryptoError.decryptFailed()
  }
}
