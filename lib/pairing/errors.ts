import { PairctlError } from '../errors.js'

/** Every stable error code of `lib/pairing` (`spec/pairing.md` §9). */
export const PAIRING_ERROR_CODES = [
  'PAIRING_WRONG_CODE',
  'PAIRING_CODE_BURNED',
  'PAIRING_EXPIRED',
  'PAIRING_CANCELLED',
  'PAIRING_BUSY',
  'PAIRING_NOT_FOUND',
  'PAIRING_UNREACHABLE',
  'PAIRING_TIMEOUT',
  'PAIRING_PROTOCOL',
  'PAIRING_CONNECTION_LOST',
  'PAIRING_REJECTED',
  'PAIRING_UNKNOWN_WORD',
  'PAIRING_BAD_CODE',
  'PAIRING_BAD_OPTION',
  'PAIRING_UNSUPPORTED_VERSION',
  'PAIRING_RENDEZVOUS_TAKEN',
  'PAIRING_PEER_OUTDATED',
  'PAIRING_CODE_ATTACKED',
  'PAIRING_CODE_USED',
  'PAIRING_SELF',
  'STORE_CORRUPT',
  'STORE_IO',
] as const

/** A pairing error code. */
export type PairingErrorCode = (typeof PAIRING_ERROR_CODES)[number]

/** Codes a peer may send in an `error` message (`spec/pairing.md` §5.5). */
export const WIRE_ERROR_CODES = [
  'PAIRING_WRONG_CODE',
  'PAIRING_CODE_BURNED',
  'PAIRING_BUSY',
  'PAIRING_NOT_FOUND',
  'PAIRING_PROTOCOL',
  'PAIRING_REJECTED',
  'PAIRING_CANCELLED',
  'PAIRING_TIMEOUT',
  'PAIRING_UNSUPPORTED_VERSION',
  'PAIRING_SELF',
] as const satisfies readonly PairingErrorCode[]

/** A code allowed in an `error` message. */
export type WireErrorCode = (typeof WIRE_ERROR_CODES)[number]

/**
 * The one error class of `lib/pairing` (`spec/pairing.md` §9). Callers switch on `code`; `remote` is
 * true when the peer or the network caused it.
 */
export class PairingError extends PairctlError {
  declare readonly code: PairingErrorCode

  constructor(code: PairingErrorCode, message: string, options: { cause?: unknown; remote?: boolean } = {}) {
    super(code, message, options)
  }

  /** The joiner's code did not match: the advertiser burned it, a new code is needed. */
  static wrongCode(): PairingError {
    return new PairingError(
      'PAIRING_WRONG_CODE',
      'the code was wrong; it is now used up: ask the other device to generate a new code',
      { remote: true },
    )
  }

  /**
   * Advertiser side: someone tried a wrong code, or (`abandoned`) got this device's share and left
   * without proving the code; either way the code is burned.
   */
  static codeBurned(abandoned = false): PairingError {
    const what = abandoned
      ? 'someone connected with this code and gave up before proving it'
      : 'someone tried a wrong code'
    return new PairingError(
      'PAIRING_CODE_BURNED',
      `${what}; this code is no longer valid: generate a new one`,
      { remote: true },
    )
  }

  /** The advertisement expired before a peer paired. */
  static expired(): PairingError {
    return new PairingError('PAIRING_EXPIRED', 'the pairing code expired: generate a new one')
  }

  /** Cancelled locally (`remote` false) or by the peer (`remote` true). */
  static cancelled(remote = false): PairingError {
    return new PairingError(
      'PAIRING_CANCELLED',
      remote ? 'the other device cancelled pairing' : 'pairing cancelled',
      { remote },
    )
  }

  /** Another joiner is already pairing with this advertiser. */
  static busy(): PairingError {
    return new PairingError(
      'PAIRING_BUSY',
      'the other device is busy pairing with someone else; retry shortly',
      {
        remote: true,
      },
    )
  }

  /** No live advertisement for the code (mistyped rendezvous words, expired or withdrawn). */
  static notFound(): PairingError {
    return new PairingError(
      'PAIRING_NOT_FOUND',
      'no device is advertising this code (check the words, or it expired)',
      {
        remote: true,
      },
    )
  }

  /** None of the advertised addresses could be reached. */
  static unreachable(detail: string, cause?: unknown): PairingError {
    return new PairingError('PAIRING_UNREACHABLE', `could not reach the other device: ${detail}`, {
      remote: true,
      cause,
    })
  }

  /** The DHT lookup itself failed (no reachable DHT node, socket error). */
  static dhtFailed(cause: unknown): PairingError {
    const detail = cause instanceof Error ? cause.message : String(cause)
    return new PairingError('PAIRING_UNREACHABLE', `could not search the DHT: ${detail}`, {
      remote: true,
      cause,
    })
  }

  /** A step did not finish in time. */
  static timeout(step: string): PairingError {
    return new PairingError('PAIRING_TIMEOUT', `timed out ${step}`, { remote: true })
  }

  /** The peer violated the protocol (malformed message, invalid point, wrong order). */
  static protocol(detail: string, cause?: unknown): PairingError {
    return new PairingError('PAIRING_PROTOCOL', `pairing protocol error: ${detail}`, { remote: true, cause })
  }

  /**
   * The connection ended before the protocol finished, with no `error` message: the network or the
   * peer dropped it. Before the joiner's tag it says nothing about the code, so the joiner tries again.
   */
  static connectionLost(): PairingError {
    return new PairingError(
      'PAIRING_CONNECTION_LOST',
      'the connection to the other device was lost during pairing',
      {
        remote: true,
      },
    )
  }

  /** The SAS was declined, here (`remote` false) or on the peer. */
  static rejected(remote: boolean): PairingError {
    return new PairingError(
      'PAIRING_REJECTED',
      remote ? 'the other device declined the verification code' : 'verification code declined',
      { remote },
    )
  }

  /** The peer speaks an unknown protocol version. */
  static version(found: unknown): PairingError {
    return new PairingError(
      'PAIRING_UNSUPPORTED_VERSION',
      `unsupported pairing protocol version ${String(found)}`,
      {
        remote: true,
      },
    )
  }

  /** A word of a typed code is not in the BIP39 English list. */
  static unknownWord(word: string, suggestion: string | undefined): PairingError {
    const hint = suggestion === undefined ? '' : ` (did you mean "${suggestion}"?)`
    return new PairingError('PAIRING_UNKNOWN_WORD', `"${word}" is not a code word${hint}`)
  }

  /** A typed code has the wrong shape (word count). */
  static badCode(detail: string): PairingError {
    return new PairingError('PAIRING_BAD_CODE', `invalid pairing code: ${detail}`)
  }

  /** A caller passed an invalid option. */
  static badOption(detail: string): PairingError {
    return new PairingError('PAIRING_BAD_OPTION', detail)
  }

  /** Every drawn rendezvous key was already in use. */
  static rendezvousTaken(): PairingError {
    return new PairingError('PAIRING_RENDEZVOUS_TAKEN', 'could not find a free rendezvous key; retry', {
      remote: true,
    })
  }

  /** The paired-device store is unreadable; the file was moved aside to `keptAs`. */
  static storeCorrupt(path: string, keptAs: string, cause?: unknown): PairingError {
    return new PairingError(
      'STORE_CORRUPT',
      `paired-device store ${path} is corrupt; kept as ${keptAs}; opening it again starts an empty store`,
      { cause },
    )
  }

  /** The store could not be read or written. */
  static storeIo(path: string, cause: unknown): PairingError {
    return new PairingError('STORE_IO', `cannot access paired-device store ${path}`, { cause })
  }

  /** Joiner side: the code was valid but someone else's wrong guess used it up first. */
  static burnedBeforeUse(): PairingError {
    return new PairingError(
      'PAIRING_CODE_BURNED',
      'this code is no longer valid: someone tried a wrong code first; ask the other device for a new code',
      { remote: true },
    )
  }

  /** Joiner side: only a withdrawal is left under the rendezvous key. */
  static withdrawn(): PairingError {
    return new PairingError(
      'PAIRING_NOT_FOUND',
      'this code is no longer valid (used, cancelled, expired or burned by a wrong attempt): ask for a new code',
      { remote: true },
    )
  }

  /** The other device speaks an older pairing protocol (a v1 advert, or a v1 joiner). */
  static peerOutdated(): PairingError {
    return new PairingError(
      'PAIRING_PEER_OUTDATED',
      'the other device runs an older protocol version of pairctl: update it, then make a new code',
      { remote: true },
    )
  }

  /** More than one valid advert answered for the code: decoys; no tag was sent to any of them. */
  static codeAttacked(count: number): PairingError {
    return new PairingError(
      'PAIRING_CODE_ATTACKED',
      `${count} devices answer for this code, so the code may be under attack; nothing was sent to any of them: make a new code`,
      { remote: true },
    )
  }

  /** This device already sent a confirmation tag for this code: it is refused without network use. */
  static codeUsed(): PairingError {
    return new PairingError(
      'PAIRING_CODE_USED',
      'this code was already used on this device (it is good for one attempt only): ask the other device for a new code',
    )
  }

  /** The code is this device's own, or the peer proved this device's own identity. */
  static self(remote = false): PairingError {
    return new PairingError(
      'PAIRING_SELF',
      'this code was generated by this same device (instance): type it on the other device instead',
      { remote },
    )
  }

  /** The error a peer's `error` message stands for, seen from this side. */
  static fromWire(code: WireErrorCode): PairingError {
    if (code === 'PAIRING_WRONG_CODE') return PairingError.wrongCode()
    if (code === 'PAIRING_CODE_BURNED') return PairingError.burnedBeforeUse()
    if (code === 'PAIRING_BUSY') return PairingError.busy()
    if (code === 'PAIRING_NOT_FOUND') return PairingError.notFound()
    if (code === 'PAIRING_REJECTED') return PairingError.rejected(true)
    if (code === 'PAIRING_CANCELLED') return PairingError.cancelled(true)
    if (code === 'PAIRING_TIMEOUT') return PairingError.timeout('on the other device')
    if (code === 'PAIRING_UNSUPPORTED_VERSION') return PairingError.version('(refused by peer)')
    if (code === 'PAIRING_SELF') return PairingError.self(true)
    return PairingError.protocol('the other device reported a protocol error')
  }
}
