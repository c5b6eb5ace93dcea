import { PairctlError } from '../errors.js'

/**
 * Errors of `lib/stun` (`spec/stun.md` §7). Codes are stable; `remote: true` when the network or
 * server is at fault.
 */
export class StunError extends PairctlError {
  /** Extra fields of an error response (RFC 8489 §14.8), when the code is `STUN_ERROR_RESPONSE`. */
  errorCode?: number
  /** The unknown comprehension-required attribute types, for `STUN_UNKNOWN_ATTRIBUTE`. */
  unknownAttributes?: number[]

  /** No response within the RFC 8489 §6.2 retransmission schedule (or the TCP Ti timeout). */
  static timeout(what: string): StunError {
    return new StunError('STUN_TIMEOUT', `no STUN response from ${what}`, { remote: true })
  }

  /** Bytes that are not a well-formed STUN message (RFC 8489 §5, §14). */
  static malformed(reason: string): StunError {
    return new StunError('STUN_MALFORMED', `malformed STUN message: ${reason}`, { remote: true })
  }

  /** The server answered with an error response (RFC 8489 §6.3.4). */
  static errorResponse(code: number, reason: string): StunError {
    const err = new StunError('STUN_ERROR_RESPONSE', `STUN error ${code}: ${reason}`, { remote: true })
    err.errorCode = code
    return err
  }

  /** A response carried comprehension-required attributes we do not know (RFC 8489 §6.3.1). */
  static unknownAttribute(types: number[]): StunError {
    const list = types.map((t) => `0x${t.toString(16).padStart(4, '0')}`).join(', ')
    const err = new StunError('STUN_UNKNOWN_ATTRIBUTE', `unknown comprehension-required ${list}`, {
      remote: true,
    })
    err.unknownAttributes = types
    return err
  }

  /** MESSAGE-INTEGRITY(-SHA256) or FINGERPRINT did not verify (RFC 8489 §14.5, §14.6, §14.7). */
  static integrityFailed(what: string): StunError {
    return new StunError('STUN_INTEGRITY_FAILED', `${what} did not verify`, { remote: true })
  }

  /** The request was cancelled through its AbortSignal. */
  static aborted(): StunError {
    return new StunError('STUN_ABORTED', 'STUN transaction aborted')
  }

  /** The socket or connection failed (connect refused, reset, closed early). */
  static transport(cause: unknown): StunError {
    return new StunError('STUN_TRANSPORT', `STUN transport failed: ${String(cause)}`, { cause, remote: true })
  }

  /** Local misuse: an argument the caller passed is invalid. */
  static invalidArgument(reason: string): StunError {
    return new StunError('STUN_INVALID_ARGUMENT', reason)
  }
}
