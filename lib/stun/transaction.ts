/**
 * A STUN client transaction as a sans-I/O state machine (RFC 8489 §6.2, §6.3): it owns one request,
 * says when to (re)transmit it, and turns the matching response into an event. The caller feeds
 * datagrams with {@link ClientTransaction.receive} and time with `now` (ms). Spec: `spec/stun.md` §5.
 * @module
 */
import { canonicalIp, unmapIpv4 } from '../addresses/ip.js'
import { equalBytes } from '../crypto/index.js'
import type { Endpoint } from './address.js'
import { decodeErrorCode, decodeUnknownAttributes } from './attributes.js'
import {
  Attr,
  COMPREHENSION_OPTIONAL_MIN,
  DEFAULT_RC,
  DEFAULT_RM,
  DEFAULT_RTO_MS,
  KNOWN_ATTRIBUTES,
  StunClass,
  TCP_TIMEOUT_MS,
} from './constants.js'
import { StunError } from './errors.js'
import { verifyFingerprint, verifyMessage } from './integrity.js'
import {
  type DecodedMessage,
  findAttribute,
  isStunMessage,
  type StunAttribute,
  significantAttributes,
  tryDecodeMessage,
} from './message.js'

/** How the request travels: UDP retransmits (RFC 8489 §6.2.1), TCP does not (§6.2.2). */
export type StunTransport = 'udp' | 'tcp'

/** Options of {@link ClientTransaction}. */
export interface TransactionOptions {
  /** The encoded request. */
  request: Uint8Array
  /** Its 12-byte transaction id. */
  transactionId: Uint8Array
  /** Where the request goes. */
  destination: Endpoint
  transport?: StunTransport
  /** Initial RTO in ms (RFC 8489 §6.2.1, default 500). */
  rto?: number
  /** Rc: transmissions before the last wait (default 7). */
  rc?: number
  /** Rm: the last wait is Rm × RTO (default 16). */
  rm?: number
  /** Ti for TCP in ms (default 39 500). */
  tcpTimeout?: number
  /**
   * Accept a response from any source. Needed for CHANGE-REQUEST (RFC 5780 §4.4), whose response
   * comes from another address; otherwise a response from elsewhere than `destination` is dropped.
   */
  acceptAnySource?: boolean
  /** Key to check the response's MESSAGE-INTEGRITY with (RFC 8489 §9.1.4); none when unset. */
  integrityKey?: Uint8Array
}

/** What a transaction reports, once. */
export type TransactionEvent =
  | { type: 'response'; message: DecodedMessage; from: Endpoint; rttMs: number }
  | { type: 'failed'; error: StunError }

/** Datagrams a transaction dropped, by reason, for diagnostics. */
export interface TransactionCounters {
  notStun: number
  otherTransaction: number
  unexpectedSource: number
  badFingerprint: number
  badIntegrity: number
}

/** One client transaction. Poll API per `spec/stun.md` §5 and the project's sans-I/O convention. */
export class ClientTransaction {
  readonly transactionId: Uint8Array
  readonly destination: Endpoint
  readonly counters: TransactionCounters = {
    notStun: 0,
    otherTransaction: 0,
    unexpectedSource: 0,
    badFingerprint: 0,
    badIntegrity: 0,
  }
  readonly #options: TransactionOptions
  readonly #limit: number
  #sent = 0
  #nextSendAt: number
  #deadline = Number.POSITIVE_INFINITY
  #firstSentAt = 0
  #done = false
  readonly #events: TransactionEvent[] = []

  constructor(options: TransactionOptions, now: number) {
    this.#options = options
    this.transactionId = options.transactionId
    this.destination = options.destination
    this.#limit = options.transport === 'tcp' ? 1 : (options.rc ?? DEFAULT_RC)
    this.#nextSendAt = now
  }

  /** True once a response or failure has been reported. */
  get done(): boolean {
    return this.#done
  }

  /** The request to send now, if one is due (first send or a retransmission). */
  pollTransmit(now: number): { bytes: Uint8Array; to: Endpoint } | null {
    if (this.#done || this.#sent >= this.#limit || now < this.#nextSendAt) return null
    if (this.#sent === 0) this.#firstSentAt = now
    this.#sent++
    this.#schedule(now)
    return { bytes: this.#options.request, to: this.destination }
  }

  /** RFC 8489 §6.2.1: RTO doubles after each send; after the Rc-th, wait Rm × RTO, then fail. */
  #schedule(now: number): void {
    const rto = this.#options.rto ?? DEFAULT_RTO_MS
    if (this.#options.transport === 'tcp') this.#deadline = now + (this.#options.tcpTimeout ?? TCP_TIMEOUT_MS)
    else if (this.#sent < this.#limit) this.#nextSendAt = now + rto * 2 ** (this.#sent - 1)
    else this.#deadline = now + rto * (this.#options.rm ?? DEFAULT_RM)
  }

  /** When {@link handleTimeout} or {@link pollTransmit} next has work; `null` when done. */
  pollTimeout(): number | null {
    if (this.#done) return null
    return this.#sent < this.#limit ? this.#nextSendAt : this.#deadline
  }

  /** Fails the transaction with `STUN_TIMEOUT` (or `STUN_INTEGRITY_FAILED`) once the deadline passed. */
  handleTimeout(now: number): void {
    if (this.#done || now < this.#deadline) return
    const where = `${this.destination.host}:${this.destination.port}`
    const error =
      this.counters.badIntegrity > 0
        ? StunError.integrityFailed(`MESSAGE-INTEGRITY of every response from ${where}`)
        : StunError.timeout(where)
    this.#finish({ type: 'failed', error })
  }

  /** Ends the transaction locally (e.g. its AbortSignal fired). */
  cancel(error: StunError): void {
    if (!this.#done) this.#finish({ type: 'failed', error })
  }

  /**
   * Feeds one datagram (or one framed TCP message). Returns true when it was this transaction's
   * response (consumed, whether accepted or dropped), false when it belongs to someone else, so a
   * socket shared with the DHT passes it on. Never throws.
   */
  receive(bytes: Uint8Array, from: Endpoint, now: number): boolean {
    if (this.#done || !isStunMessage(bytes)) return this.#count('notStun', false)
    const message = tryDecodeMessage(bytes)
    if (!message) return this.#count('notStun', false)
    if (!equalBytes(message.transactionId, this.transactionId)) return this.#count('otherTransaction', false)
    if (!this.#fromExpected(from)) return this.#count('unexpectedSource', true)
    if (message.cls === StunClass.request || message.cls === StunClass.indication) return true
    if (findAttribute(message, Attr.fingerprint) && !verifyFingerprint(message)) {
      return this.#count('badFingerprint', true)
    }
    if (!this.#integrityOk(message)) return this.#count('badIntegrity', true)
    this.#finish(this.#outcome(message, from, now))
    return true
  }

  #integrityOk(message: DecodedMessage): boolean {
    if (!this.#options.integrityKey) return true
    try {
      verifyMessage(message, this.#options.integrityKey)
      return true
    } catch {
      return false
    }
  }

  #outcome(message: DecodedMessage, from: Endpoint, now: number): TransactionEvent {
    try {
      if (message.cls === StunClass.errorResponse)
        return { type: 'failed', error: errorFromResponse(message) }
      const unknown = unknownComprehensionRequired(message)
      if (unknown.length > 0) return { type: 'failed', error: StunError.unknownAttribute(unknown) }
      return { type: 'response', message, from, rttMs: now - this.#firstSentAt }
    } catch (error) {
      return {
        type: 'failed',
        error: error instanceof StunError ? error : StunError.malformed(String(error)),
      }
    }
  }

  #fromExpected(from: Endpoint): boolean {
    if (this.#options.acceptAnySource) return true
    return sameEndpoint(from, this.destination)
  }

  #count(reason: keyof TransactionCounters, consumed: boolean): boolean {
    this.counters[reason]++
    return consumed
  }

  #finish(event: TransactionEvent): void {
    this.#done = true
    this.#events.push(event)
  }

  /** The next event, or `null` while none is ready. */
  nextEvent(): TransactionEvent | null {
    return this.#events.shift() ?? null
  }
}

/** RFC 8489 §6.3.4: an error response becomes `STUN_ERROR_RESPONSE` (420 lists the unknown types). */
export function errorFromResponse(message: DecodedMessage): StunError {
  const attribute = findAttribute(message, Attr.errorCode)
  if (!attribute) throw StunError.malformed('error response without ERROR-CODE')
  const { code, reason } = decodeErrorCode(attribute.value)
  const error = StunError.errorResponse(code, reason)
  const unknown = findAttribute(message, Attr.unknownAttributes)
  if (unknown) error.unknownAttributes = decodeUnknownAttributes(unknown.value)
  return error
}

/** RFC 8489 §14: comprehension-required types (< 0x8000) this implementation does not know. */
export function unknownComprehensionRequired(message: { attributes: StunAttribute[] }): number[] {
  const types = significantAttributes(message.attributes).map((a) => a.type)
  return [...new Set(types.filter((t) => t < COMPREHENSION_OPTIONAL_MIN && !KNOWN_ATTRIBUTES.has(t)))]
}

/** Same IP (IPv4-mapped IPv6 folded, canonical text) and port. */
export function sameEndpoint(a: Endpoint, b: Endpoint): boolean {
  return a.port === b.port && canonicalIp(unmapIpv4(a.host)) === canonicalIp(unmapIpv4(b.host))
}
