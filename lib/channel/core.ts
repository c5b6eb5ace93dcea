import { PairctlError } from '../errors.js'
import { NoiseError } from '../noise/errors.js'
import {
  type HandshakeResult,
  SecureHandshake,
  type SecureHandshakeOptions,
} from '../noise/secure-handshake.js'
import { FRAME_TYPE, LENGTH_PREFIX, MAX_HANDSHAKE_FRAME, MAX_MESSAGE_LENGTH } from './constants.js'
import { ChannelError } from './errors.js'
import { FrameDecoder, type FrameSink } from './frame-decoder.js'
import { isKnownFrameType, Transport } from './transport.js'

/** Options of {@link ChannelCore}: the handshake's, plus the timers (ms; 0 disables idle and keepalive). */
export interface ChannelCoreOptions extends SecureHandshakeOptions {
  handshakeTimeoutMs: number
  idleTimeoutMs: number
  keepaliveMs: number
  /** Transport messages per direction between rekeys (tests shorten it). */
  rekeyInterval?: number
}

/** The handshake's outcome without the transport keys, which stay inside the core. */
export type ChannelInfo = Omit<HandshakeResult, 'transport'>

/** What the core reports, in order, through {@link ChannelCore.nextEvent}. */
export type ChannelEvent =
  | { type: 'handshake'; info: ChannelInfo }
  | { type: 'data'; chunks: Buffer[] }
  | { type: 'end' }
  | { type: 'error'; error: PairctlError }

/** Where the connection is: handshaking, open, or failed (terminal). */
export type ChannelPhase = 'handshake' | 'open' | 'failed'

/**
 * The sans-I/O secure channel (`spec/noise.md` §3-§7): feed it bytes and time, poll it for bytes to send,
 * events and the next deadline. Never throws on remote input: failures become one `error` event, after
 * which the core ignores input. Local misuse (oversized message, sending after close) throws ChannelError.
 */
export class ChannelCore implements FrameSink {
  readonly #options: ChannelCoreOptions
  readonly #decoder = new FrameDecoder(this)
  readonly #handshake: SecureHandshake
  readonly #handshakeDeadline: number
  #transport: Transport | undefined
  #phase: ChannelPhase = 'handshake'
  #frame: Uint8Array[] = []
  #outbox: Buffer[] = []
  #events: ChannelEvent[] = []
  #lastReceive: number
  #lastSend: number
  #sentClose = false
  #receivedClose = false

  /** Starts the handshake at `now`; an initiator's first message is ready in {@link pollTransmit} at once. */
  constructor(options: ChannelCoreOptions, now: number) {
    this.#options = options
    this.#handshake = new SecureHandshake(options)
    this.#handshakeDeadline = now + options.handshakeTimeoutMs
    this.#lastReceive = now
    this.#lastSend = now
    if (this.#handshake.isMyTurn) this.#sendHandshakeMessage()
  }

  get phase(): ChannelPhase {
    return this.#phase
  }

  /** True once this side queued its close frame. */
  get sentClose(): boolean {
    return this.#sentClose
  }

  /** True once the peer's authenticated close frame arrived. */
  get receivedClose(): boolean {
    return this.#receivedClose
  }

  /** Feeds bytes received from the peer. */
  receive(bytes: Uint8Array, now: number): void {
    if (this.#phase === 'failed') return
    this.#lastReceive = now
    try {
      this.#decoder.push(bytes)
    } catch (err) {
      this.#fail(err instanceof PairctlError ? err : NoiseError.badMessage(String(err)))
    }
  }

  /** The byte stream ended (FIN): fine after the peer's close frame, a failure otherwise. */
  receiveEnd(): void {
    if (this.#phase === 'failed' || (this.#receivedClose && !this.#decoder.midFrame)) return
    if (this.#phase === 'handshake')
      this.#fail(ChannelError.closed('connection ended during the handshake', true))
    else this.#fail(ChannelError.truncated())
  }

  /** Stream API: sends `parts` as a byte stream, coalescing small parts and splitting large ones into frames. */
  sendData(parts: readonly Uint8Array[], now: number): void {
    this.#checkWritable()
    let batch: Uint8Array[] = []
    let size = 0
    for (let part of parts) {
      while (part.length > 0) {
        const take = Math.min(part.length, MAX_MESSAGE_LENGTH - size)
        batch.push(part.subarray(0, take))
        size += take
        part = part.subarray(take)
        if (size === MAX_MESSAGE_LENGTH) {
          this.#sendFrame(FRAME_TYPE.data, batch, size, now)
          batch = []
          size = 0
        }
      }
    }
    if (size > 0) this.#sendFrame(FRAME_TYPE.data, batch, size, now)
  }

  /**
   * Message API: sends `message` as one frame; given as pieces, their concatenation is the message (they
   * are encrypted in place of a copy). Throws CHANNEL_MESSAGE_TOO_LARGE above MAX_MESSAGE_LENGTH.
   */
  sendMessage(message: MessageBytes, now: number): void {
    this.#checkWritable()
    const parts = messageParts(message)
    const size = messageLength(parts)
    if (size > MAX_MESSAGE_LENGTH) throw ChannelError.messageTooLarge(size, MAX_MESSAGE_LENGTH)
    this.#sendFrame(FRAME_TYPE.data, parts, size, now)
  }

  /** Queues the authenticated close frame (end of this direction). Idempotent. */
  close(now: number): void {
    if (this.#phase !== 'open' || this.#sentClose) return
    this.#sendFrame(FRAME_TYPE.close, [], 0, now)
    this.#sentClose = true
  }

  /** The bytes to write, in order, or null when there are none. */
  pollTransmit(): Buffer[] | null {
    if (this.#outbox.length === 0) return null
    const out = this.#outbox
    this.#outbox = []
    return out
  }

  /** The next event, or null. */
  nextEvent(): ChannelEvent | null {
    return this.#events.shift() ?? null
  }

  /** The earliest time {@link handleTimeout} must run, or null when no timer is pending. */
  pollTimeout(): number | null {
    if (this.#phase === 'failed') return null
    if (this.#phase === 'handshake') return this.#handshakeDeadline
    const { idleTimeoutMs, keepaliveMs } = this.#options
    const idle = idleTimeoutMs > 0 ? this.#lastReceive + idleTimeoutMs : Infinity
    const keepalive = keepaliveMs > 0 && !this.#sentClose ? this.#lastSend + keepaliveMs : Infinity
    const earliest = Math.min(idle, keepalive)
    return earliest === Infinity ? null : earliest
  }

  /** Fires due timers: handshake and idle timeouts fail the channel; a due keepalive is queued. */
  handleTimeout(now: number): void {
    const { handshakeTimeoutMs, idleTimeoutMs, keepaliveMs } = this.#options
    if (this.#phase === 'handshake' && now >= this.#handshakeDeadline)
      this.#fail(ChannelError.handshakeTimeout(handshakeTimeoutMs))
    if (this.#phase !== 'open') return
    if (idleTimeoutMs > 0 && now >= this.#lastReceive + idleTimeoutMs) {
      this.#fail(ChannelError.idleTimeout(idleTimeoutMs))
      return
    }
    if (keepaliveMs > 0 && !this.#sentClose && now >= this.#lastSend + keepaliveMs)
      this.#sendFrame(FRAME_TYPE.keepalive, [], 0, now)
  }

  /** Fails the channel locally (abort, socket error): emits the error event once. */
  fail(error: PairctlError): void {
    if (this.#phase !== 'failed') this.#fail(error)
  }

  /** FrameSink: a frame starts. */
  frameStart(length: number): void {
    if (this.#phase === 'open') {
      this.#transport!.openStart(length)
      return
    }
    if (length > MAX_HANDSHAKE_FRAME) throw ChannelError.frameTooLarge(length, MAX_HANDSHAKE_FRAME)
    this.#frame = []
  }

  /** FrameSink: a piece of the frame body. */
  frameData(piece: Uint8Array): void {
    if (this.#phase === 'open') this.#transport!.openData(piece)
    else this.#frame.push(Uint8Array.from(piece))
  }

  /** FrameSink: the frame is complete. */
  frameEnd(): void {
    if (this.#phase === 'open') this.#receiveTransportFrame()
    else this.#receiveHandshakeFrame(Buffer.concat(this.#frame))
  }

  #receiveHandshakeFrame(message: Uint8Array): void {
    if (this.#handshake.isMyTurn) throw ChannelError.protocol('handshake message out of turn')
    this.#handshake.readMessage(message)
    if (this.#handshake.isMyTurn) this.#sendHandshakeMessage()
    if (this.#handshake.isFinished) this.#open()
  }

  #sendHandshakeMessage(): void {
    const message = this.#handshake.writeMessage()
    const prefix = Buffer.allocUnsafe(LENGTH_PREFIX)
    prefix.writeUInt16BE(message.length, 0)
    this.#outbox.push(prefix, Buffer.from(message.buffer, message.byteOffset, message.byteLength))
  }

  #open(): void {
    const { transport, ...info } = this.#handshake.result()
    this.#transport = new Transport(transport, this.#options.rekeyInterval)
    this.#phase = 'open'
    this.#events.push({ type: 'handshake', info })
  }

  #receiveTransportFrame(): void {
    const { type, chunks } = this.#transport!.openEnd()
    if (!isKnownFrameType(type)) throw ChannelError.protocol(`unknown frame type ${type}`)
    if (this.#receivedClose) throw ChannelError.protocol('frame after the peer closed')
    if (type === FRAME_TYPE.close) {
      this.#receivedClose = true
      this.#events.push({ type: 'end' })
    } else if (type === FRAME_TYPE.data) this.#events.push({ type: 'data', chunks })
  }

  #sendFrame(type: number, parts: readonly Uint8Array[], size: number, now: number): void {
    this.#transport!.seal(type, parts, size, this.#outbox)
    this.#lastSend = now
  }

  #checkWritable(): void {
    if (this.#phase !== 'open') throw ChannelError.closed(`cannot send: channel ${this.#phase}`, false)
    if (this.#sentClose) throw ChannelError.closed('cannot send after close()', false)
  }

  #fail(error: PairctlError): void {
    this.#phase = 'failed'
    this.#outbox = []
    this.#events.push({ type: 'error', error })
  }
}

/** One message of the message API: its bytes whole, or pieces whose concatenation it is. */
export type MessageBytes = Uint8Array | readonly Uint8Array[]

function messageParts(message: MessageBytes): readonly Uint8Array[] {
  return message instanceof Uint8Array ? [message] : message
}

/** The length of a message given whole or in pieces. */
export function messageLength(message: MessageBytes): number {
  if (message instanceof Uint8Array) return message.length
  let length = 0
  for (const part of message) length += part.length
  return length
}
