import { PairingError } from './errors.js'
import type { HandshakeEvent } from './handshake.js'

/**
 * The advertiser's session across connections, sans-I/O (`spec/pairing.md` §7.2): one joiner at a
 * time, failed guesses counted against `maxAttempts`, expiry. The per-connection protocol is
 * {@link PairingHandshake}; this decides what a connection's outcome means for the code.
 * @module
 */

/** States of an advertiser session. */
export type AdvertiserState =
  | 'advertising'
  | 'handshaking'
  | 'confirming'
  | 'paired'
  | 'failed'
  | 'expired'
  | 'cancelled'

/** What {@link AdvertiserSession.handshakeEvent} asks the I/O layer to do. */
export type SessionAction = 'none' | 'retry' | 'end'

/** The transitions of the session (`spec/pairing.md` §7.2). */
const TRANSITIONS: Readonly<Record<AdvertiserState, readonly AdvertiserState[]>> = {
  advertising: ['handshaking', 'expired', 'cancelled', 'failed'],
  handshaking: ['confirming', 'advertising', 'failed', 'expired', 'cancelled'],
  confirming: ['paired', 'failed', 'cancelled'],
  paired: [],
  failed: [],
  expired: [],
  cancelled: [],
}

/** Advertiser session state machine. */
export class AdvertiserSession {
  #state: AdvertiserState = 'advertising'
  #failures = 0
  #error: PairingError | undefined
  readonly #expiresAt: number
  readonly #maxAttempts: number

  constructor(options: { expiresAt: number; maxAttempts: number }) {
    this.#expiresAt = options.expiresAt
    this.#maxAttempts = options.maxAttempts
  }

  /** The current state. */
  get state(): AdvertiserState {
    return this.#state
  }

  /** Why the session ended (`undefined` while running or once paired). */
  get error(): PairingError | undefined {
    return this.#error
  }

  /** Wrong guesses still allowed. */
  get remainingAttempts(): number {
    return this.#maxAttempts - this.#failures
  }

  /** True once the session reached a final state. */
  get isOver(): boolean {
    return TRANSITIONS[this.#state].length === 0
  }

  /** A joiner's `hello` arrived: true if it may proceed, false if it must be told `PAIRING_BUSY`. */
  admit(): boolean {
    if (this.#state !== 'advertising') return false
    this.#move('handshaking')
    return true
  }

  /**
   * Applies an event of the admitted connection. A confirmation tag that did not verify spends an
   * attempt (the code burns when none remain); other failures before confirmation free the session
   * for the next joiner (`retry`); after confirmation, any failure ends it.
   */
  handshakeEvent(event: HandshakeEvent, now: number): SessionAction {
    if (this.isOver) return 'end'
    if (event.type === 'sas') this.#move('confirming')
    if (event.type === 'paired') this.#move('paired')
    if (event.type !== 'failed') return this.isOver ? 'end' : 'none'
    return this.#onFailure(event.error, event.attempt, now)
  }

  /** When {@link handleTimeout} must run: the expiry, while waiting for a joiner. */
  pollTimeout(): number | undefined {
    return this.#state === 'advertising' ? this.#expiresAt : undefined
  }

  /** Expires the session when its advert lifetime is over and no joiner is mid-handshake. */
  handleTimeout(now: number): void {
    if (this.#state === 'advertising' && now >= this.#expiresAt) this.#end('expired', PairingError.expired())
  }

  /** Cancels locally. */
  cancel(): void {
    if (!this.isOver) this.#end('cancelled', PairingError.cancelled(false))
  }

  /** Ends the session with an error from outside the handshake (DHT or listener failure). */
  abort(error: PairingError): void {
    if (!this.isOver) this.#end('failed', error)
  }

  #onFailure(error: PairingError, attempt: boolean, now: number): SessionAction {
    if (attempt) this.#failures++
    if (attempt && this.remainingAttempts <= 0)
      this.#end('failed', PairingError.codeBurned(error.code !== 'PAIRING_WRONG_CODE'))
    else if (this.#state === 'confirming' || !isRetryable(error)) this.#end('failed', error)
    else if (now >= this.#expiresAt) this.#end('expired', PairingError.expired())
    else this.#move('advertising')
    return this.isOver ? 'end' : 'retry'
  }

  #end(state: AdvertiserState, error: PairingError): void {
    this.#move(state)
    this.#error = error
  }

  #move(state: AdvertiserState): void {
    if (this.#state === state) return
    if (!TRANSITIONS[this.#state].includes(state))
      throw new PairingError('PAIRING_PROTOCOL', `internal: ${this.#state} → ${state} is not a transition`)
    this.#state = state
  }
}

/** Failures that say nothing about the code, before confirmation: the next joiner may try. */
function isRetryable(error: PairingError): boolean {
  return [
    'PAIRING_WRONG_CODE',
    'PAIRING_TIMEOUT',
    'PAIRING_PROTOCOL',
    'PAIRING_CONNECTION_LOST',
    'PAIRING_CANCELLED',
    'PAIRING_UNSUPPORTED_VERSION',
    'PAIRING_NOT_FOUND',
  ].includes(error.code)
}
