import { equalBytes, randomBytes, toHex } from '../crypto/index.js'
import {
  ANSWER_TIMEOUT_MS,
  CONNECT_WINDOW_BASE_MS,
  CONNECT_WINDOW_MAX_MS,
  MAX_ATTEMPTS,
  NONCE_BYTES,
  REQUEST_MAX_AGE_MS,
} from './constants.js'
import { HolepunchError } from './errors.js'
import type { Endpoint, NatBehaviour, PunchAnswer, PunchEnd, PunchMessage, PunchRequest } from './messages.js'

/**
 * The sans-I/O core of a TCP hole punch (`spec/holepunch.md` §5): what each side sends and when it
 * connects, fed with what the adapter learned (its mapping, the peer's messages, connect outcomes) and
 * `now`. The adapter does the STUN probe, the DHT publishing and polling, and the sockets.
 * @module
 */

/** What the adapter learned about the local port it will connect from. */
export interface LocalMapping {
  localPort: number
  /** The address the NAT maps that port to, as a STUN server saw its UDP twin. */
  mapped: Endpoint
  nat: NatBehaviour
}

/** Who acts as the Noise initiator on a punched connection: always the requester (§5.3). */
export type PunchRole = 'initiator' | 'responder'

/** What the requester asks the adapter to do. */
export type RequesterAction =
  /** Learn the mapping of a fresh local port (attempt `attempt`, from 1). */
  | { type: 'prepare'; attempt: number }
  /** Publish `message` (sealed with this attempt's keys; `counter` is its AEAD nonce). */
  | { type: 'publish'; message: PunchRequest | PunchEnd; counter: number }
  /** Simultaneous open from `localPort` to `remote`, given up after `timeoutMs`. */
  | { type: 'connect'; localPort: number; remote: Endpoint; timeoutMs: number; rttMs: number }
  | { type: 'failed'; error: HolepunchError }

/** The connect window after an answer: the base plus two signalling round trips, capped (§5.2). */
export function connectWindow(rttMs: number): number {
  return Math.min(CONNECT_WINDOW_MAX_MS, CONNECT_WINDOW_BASE_MS + 2 * Math.max(0, rttMs))
}

/** Options of {@link PunchRequester}. */
export interface RequesterOptions {
  maxAttempts?: number
  answerTimeoutMs?: number
  random?: (n: number) => Uint8Array
}

/**
 * The requester (the joiner of a pairing, the dialer of a reconnect): per attempt, learn a port's
 * mapping, publish a request, wait for the answer, connect. After the last failed attempt, or when the
 * peer says a punch is hopeless, it fails with `HOLEPUNCH_NO_PATH` (or `HOLEPUNCH_NO_ANSWER`) and, unless
 * the peer already knows, publishes an `end` so the peer stops waiting.
 */
export class PunchRequester {
  readonly role: PunchRole = 'initiator'
  readonly #maxAttempts: number
  readonly #answerTimeoutMs: number
  readonly #random: (n: number) => Uint8Array
  readonly #actions: RequesterAction[] = []
  #attempt = 0
  #state: 'preparing' | 'waiting' | 'connecting' | 'done' | 'failed' = 'preparing'
  #nonce: Uint8Array = new Uint8Array(NONCE_BYTES)
  #mapping: LocalMapping | null = null
  #sentAt = 0
  #deadline: number | undefined
  #lastError: HolepunchError | null = null

  constructor(options: RequesterOptions = {}) {
    this.#maxAttempts = options.maxAttempts ?? MAX_ATTEMPTS
    this.#answerTimeoutMs = options.answerTimeoutMs ?? ANSWER_TIMEOUT_MS
    this.#random = options.random ?? randomBytes
    this.#next()
  }

  /** The current attempt's nonce (answers to another are ignored). */
  get nonce(): Uint8Array {
    return this.#nonce
  }

  get isOver(): boolean {
    return this.#state === 'done' || this.#state === 'failed'
  }

  pollAction(): RequesterAction | undefined {
    return this.#actions.shift()
  }

  /** When {@link handleTimeout} must next be called, if at all. */
  pollTimeout(): number | undefined {
    return this.#deadline
  }

  /** The adapter learned the attempt's local mapping. A port-changing NAT ends the punch at once. */
  prepared(mapping: LocalMapping, now: number): void {
    if (this.#state !== 'preparing') return
    if (mapping.nat === 'changing') {
      this.#fail(
        HolepunchError.noPath('this device is behind a symmetric NAT, which does not keep ports'),
        'symmetric',
      )
      return
    }
    this.#mapping = mapping
    this.#state = 'waiting'
    this.#sentAt = now
    this.#deadline = now + this.#answerTimeoutMs
    const request: PunchRequest = {
      t: 'req',
      n: this.#nonce,
      addr: mapping.mapped,
      nat: mapping.nat,
      at: now,
    }
    this.#actions.push({ type: 'publish', message: request, counter: 0 })
  }

  /** The adapter could not learn a mapping (no STUN answer): counts as a failed attempt. */
  prepareFailed(error: HolepunchError): void {
    if (this.#state !== 'preparing') return
    this.#lastError = error
    this.#retryOrFail()
  }

  /** A message opened with this attempt's keys. Only an answer to the current nonce counts. */
  receive(message: PunchMessage, now: number): void {
    if (this.#state !== 'waiting' || message.t !== 'ans' || !equalBytes(message.n, this.#nonce)) return
    if (message.addr === null) {
      const error = HolepunchError.noPath(
        'the other device is behind a symmetric NAT, which does not keep ports',
      )
      this.#fail(error, 'responder-symmetric')
      return
    }
    const rttMs = now - this.#sentAt
    this.#state = 'connecting'
    this.#deadline = undefined
    this.#actions.push({
      type: 'connect',
      localPort: this.#mapping!.localPort,
      remote: message.addr,
      timeoutMs: connectWindow(rttMs),
      rttMs,
    })
  }

  connected(): void {
    if (this.#state !== 'connecting') return
    this.#state = 'done'
  }

  connectFailed(cause?: unknown): void {
    if (this.#state !== 'connecting') return
    this.#lastError = HolepunchError.noPath('the simultaneous TCP open did not connect', cause)
    this.#retryOrFail()
  }

  /**
   * The connection of a `connect` that succeeded was lost before it was secured (segments lost until a
   * handshake timed out, or the peer's socket gone): counts as a failed attempt, so the next one starts.
   */
  securingFailed(cause?: unknown): void {
    if (this.#state !== 'done') return
    this.#lastError = HolepunchError.noPath('the punched connection was lost during the handshake', cause)
    this.#retryOrFail()
  }

  handleTimeout(now: number): void {
    if (this.#deadline === undefined || now < this.#deadline || this.#state !== 'waiting') return
    this.#lastError = HolepunchError.noAnswer(this.#answerTimeoutMs)
    this.#retryOrFail()
  }

  #retryOrFail(): void {
    if (this.#attempt < this.#maxAttempts) {
      this.#next()
      return
    }
    const error = this.#lastError ?? HolepunchError.noPath('every attempt failed')
    this.#fail(error, error.code === 'HOLEPUNCH_NO_ANSWER' ? 'no-answer' : 'no-path')
  }

  #next(): void {
    this.#attempt++
    this.#nonce = this.#random(NONCE_BYTES)
    this.#mapping = null
    this.#deadline = undefined
    this.#state = 'preparing'
    this.#actions.push({ type: 'prepare', attempt: this.#attempt })
  }

  /** Fails, telling the peer through an `end` under the current attempt's keys. */
  #fail(error: HolepunchError, why: PunchEnd['why']): void {
    this.#state = 'failed'
    this.#deadline = undefined
    this.#actions.push({ type: 'publish', message: { t: 'end', n: this.#nonce, why }, counter: 1 })
    this.#actions.push({ type: 'failed', error })
  }
}

/** What the responder asks the adapter to do for one request. */
export type ResponderAction =
  /** Learn the mapping of a fresh local port for the request with nonce `nonce`. */
  | { type: 'prepare'; nonce: Uint8Array; remote: Endpoint }
  | { type: 'publish'; message: PunchAnswer; counter: number }
  | { type: 'connect'; localPort: number; remote: Endpoint; timeoutMs: number }
  /** The requester gave up: the session waiting for it should fail with `error`. */
  | { type: 'ended'; error: HolepunchError }

/** What the responder reports for each `why` of an `end`. */
const END_REASONS: Record<PunchEnd['why'], string> = {
  'no-path': 'the hole punch failed',
  'no-answer': 'the other device got no answer to its hole punch',
  symmetric: 'the other device is behind a symmetric NAT, which does not keep ports',
  'responder-symmetric': 'this device is behind a symmetric NAT, which does not keep ports',
}

/** Requests and ends one responder remembers, so one seen again on the next poll is not acted on twice. */
const SEEN_REQUESTS = 64

/**
 * The responder (the advertiser of a pairing, the dialed device of a reconnect): answers each new, fresh
 * request with its own mapping and connects at once, so its SYN has opened its NAT before the requester
 * can know where to send its own (§5.2). A responder behind a port-changing NAT answers `addr: null`.
 */
export class PunchResponder {
  readonly role: PunchRole = 'responder'
  readonly #actions: ResponderAction[] = []
  readonly #seen: string[] = []
  readonly #pending = new Map<string, PunchRequest>()

  pollAction(): ResponderAction | undefined {
    return this.#actions.shift()
  }

  /** A message opened with a request key. */
  receive(message: PunchMessage, now: number): void {
    if (message.t === 'end') {
      // An end may name a nonce never seen: a requester behind a symmetric NAT gives up before it asks.
      if (this.#remembers('end', message.n)) return
      this.#remember('end', message.n)
      this.#actions.push({ type: 'ended', error: HolepunchError.noPath(END_REASONS[message.why]) })
      return
    }
    if (message.t !== 'req' || this.#remembers('req', message.n)) return
    if (Math.abs(now - message.at) > REQUEST_MAX_AGE_MS) return
    this.#remember('req', message.n)
    this.#pending.set(toHex(message.n), message)
    this.#actions.push({ type: 'prepare', nonce: message.n, remote: message.addr })
  }

  /** The mapping for the request `nonce` is known: answer, then connect. */
  prepared(nonce: Uint8Array, mapping: LocalMapping): void {
    const request = this.#pending.get(toHex(nonce))
    if (request === undefined) return
    this.#pending.delete(toHex(nonce))
    const hopeless = mapping.nat === 'changing'
    const answer: PunchAnswer = {
      t: 'ans',
      n: nonce,
      addr: hopeless ? null : mapping.mapped,
      nat: mapping.nat,
    }
    this.#actions.push({ type: 'publish', message: answer, counter: 0 })
    if (!hopeless)
      this.#actions.push({
        type: 'connect',
        localPort: mapping.localPort,
        remote: request.addr,
        timeoutMs: CONNECT_WINDOW_MAX_MS + ANSWER_TIMEOUT_MS,
      })
  }

  #remembers(kind: 'req' | 'end', nonce: Uint8Array): boolean {
    return this.#seen.includes(`${kind}:${toHex(nonce)}`)
  }

  #remember(kind: 'req' | 'end', nonce: Uint8Array): void {
    this.#seen.push(`${kind}:${toHex(nonce)}`)
    if (this.#seen.length > SEEN_REQUESTS) this.#seen.shift()
  }
}
