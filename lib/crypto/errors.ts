import { PairctlError } from '../errors.js'

/** Errors of `lib/crypto`: bad key or nonce sizes, failed authentication, invalid points. */
export class CryptoError extends PairctlError {
  static badLength(what: string, expected: number, got: number): CryptoError {
    return new CryptoError('CRYPTO_BAD_LENGTH', `${what} must be ${expected} bytes, got ${got}`)
  }

  static decryptFailed(): CryptoError {
    return new CryptoError('CRYPTO_DECRYPT_FAILED', 'authentication tag did not verify', { remote: true })
  }

  static invalidPublicKey(what: string, cause?: unknown): CryptoError {
    return new CryptoError('CRYPTO_INVALID_KEY', `invalid ${what} public key`, { cause, remote: true })
  }
}

/** Throws {@link CryptoError} `CRYPTO_BAD_LENGTH` unless `bytes` has exactly `length` bytes. */
export function assertLength(what: string, bytes: Uint8Array, length: number): void {
  if (!(bytes instanceof Uint8Array) || bytes.length !== length) {
    throw CryptoError.badLength(what, length, bytes instanceof Uint8Array ? bytes.length : -1)
  }
}
