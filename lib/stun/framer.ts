/**
 * STUN over TCP has no extra framing: each message's own length field delimits it (RFC 8489 §6.2.2).
 * {@link StreamFramer} cuts a byte stream into messages. Spec: `spec/stun.md` §5.3.
 * @module
 */
import { HEADER_LENGTH } from './constants.js'
import { StunError } from './errors.js'

/** Accumulates stream bytes; {@link StreamFramer.next} returns whole messages as they complete. */
export class StreamFramer {
  #buffer = new Uint8Array(0)

  /** Appends received bytes. */
  push(bytes: Uint8Array): void {
    const joined = new Uint8Array(this.#buffer.length + bytes.length)
    joined.set(this.#buffer)
    joined.set(bytes, this.#buffer.length)
    this.#buffer = joined
  }

  /** The next complete message, or `null` until more bytes arrive; `STUN_MALFORMED` if not STUN. */
  next(): Uint8Array | null {
    if (this.#buffer.length < 4) return null
    if ((this.#buffer[0]! & 0xc0) !== 0) throw StunError.malformed('stream does not carry STUN')
    const total = HEADER_LENGTH + ((this.#buffer[2]! << 8) | this.#buffer[3]!)
    if (this.#buffer.length < total) return null
    const message = this.#buffer.slice(0, total)
    this.#buffer = this.#buffer.slice(total)
    return message
  }
}
