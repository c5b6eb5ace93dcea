import { PairctlError } from '../errors.js'

/**
 * Errors of `lib/noise` (`spec/noise.md` §8). `remote: true` when the peer's bytes were at fault
 * (a tag that does not verify, a bad identity signature), `false` for local misuse or limits.
 */
export class NoiseError extends PairctlError {
  /** An AEAD tag did not verify: wrong keys, tampering, replay or garbage (Noise §5.1 DecryptWithAd). */
  static decryptFailed(cause?: unknown): NoiseError {
    return new NoiseError('NOISE_DECRYPT_FAILED', 'Noise message failed authentication', {
      cause,
      remote: true,
    })
  }

  /** A handshake message of the wrong length or shape for the pattern's next step. */
  static badMessage(detail: string): NoiseError {
    return new NoiseError('NOISE_BAD_MESSAGE', `malformed Noise handshake message: ${detail}`, {
      remote: true,
    })
  }

  /** A peer public key that X25519 rejects (malformed or of small order). */
  static badKey(cause?: unknown): NoiseError {
    return new NoiseError('NOISE_BAD_KEY', 'peer sent an invalid X25519 public key', { cause, remote: true })
  }

  /** The handshake payload's identity signature does not cover the peer's Noise static key, or is unexpected. */
  static badIdentity(detail: string): NoiseError {
    return new NoiseError('NOISE_BAD_IDENTITY', `peer identity rejected: ${detail}`, { remote: true })
  }

  /** The handshake payload is not the CBOR map `spec/noise.md` §2.3 defines. */
  static badPayload(detail: string, cause?: unknown): NoiseError {
    return new NoiseError('NOISE_BAD_PAYLOAD', `bad handshake payload: ${detail}`, { cause, remote: true })
  }

  /** The nonce reached {@link MAX_NONCE}: the CipherState refuses to encrypt or decrypt again (Noise §5.1). */
  static nonceExhausted(): NoiseError {
    return new NoiseError('NOISE_NONCE_EXHAUSTED', 'CipherState nonce exhausted; rekeying does not reset it')
  }

  /** A message or payload over the size limits of Noise §3 or `spec/noise.md` §2.3. */
  static tooLarge(what: string, length: number, max: number): NoiseError {
    return new NoiseError('NOISE_TOO_LARGE', `${what} of ${length} bytes exceeds ${max}`)
  }

  /** Local misuse of the state machines: out-of-turn calls, unknown patterns, missing keys. */
  static misuse(detail: string): NoiseError {
    return new NoiseError('NOISE_MISUSE', detail)
  }
}
