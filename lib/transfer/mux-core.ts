/**
 * Streams on the link, sans-I/O (`spec/transfer.md` §2): multiplexes request/response pairs and
 * unidirectional byte streams with per-stream credit over one ordered message channel. Feed it each link
 * message with {@link MuxCore.receive}; take frames to send with {@link MuxCore.pollTransmit} (control
 * frames first, then DATA round-robin between streams, so one stream never holds up another or a request);
 * read what happened with {@link MuxCore.nextEvent}; drive request timeouts with `pollTimeout` /
 * `handleTimeout`.
 * @module
 */
import { z } from 'zod'
import { decodeCbor, encodeCbor } from '../cbor.js'
import {
  FRAME,
  FRAME_HEADER_LENGTH,
  MAX_DATA_LENGTH,
  MAX_ERROR_MESSAGE,
  MAX_INCOMING_STREAMS,
  STREAM_WINDOW,
} from './constants.js'
import { remoteError, TransferError } from './errors.js'

/** What {@link MuxCore.nextEvent} reports. */
export type MuxEvent =
  | { type: 'request'; id: number; body: Uint8Array }
  | { type: 'response'; id: number; body: Uint8Array }
  | { type: 'request-failed'; id: number; error: TransferError }
  | { type: 'stream-open'; stream: number; header: Uint8Array }
  | { type: 'stream-data'; stream: number; data: Uint8Array }
  | { type: 'stream-end'; stream: number }
  /** `incoming`: the peer's stream was reset by the peer; else the peer stopped ours. */
  | { type: 'stream-reset'; stream: number; incoming: boolean; error: TransferError }
  /** Fatal: the peer broke the protocol; the core is closed and the link should be. */
  | { type: 'error'; error: TransferError }
  /**
   * A request ran out of time while nothing at all arrived from the peer since it was sent: the link is
   * dead (a router dropped its mapping) or the peer is stuck. The core is closed and the link should be.
   */
  | { type: 'silent' }

const ErrorBody = z.object({ code: z.string().max(64), message: z.string().max(MAX_ERROR_MESSAGE) })

interface Outgoing {
  credit: number
  pieces: Uint8Array[]
  queued: number
  ending: boolean
}

interface Incoming {
  received: number
  granted: number
  consumed: number
}

interface Pending {
  sentAt: number
  deadline: number
  timeoutMs: number
}

/** Sequences a stream frame: kind, id and payload (`spec/transfer.md` §2.1). */
export function encodeFrame(kind: number, id: number, payload: Uint8Array = new Uint8Array(0)): Uint8Array {
  const frame = new Uint8Array(FRAME_HEADER_LENGTH + payload.length)
  frame[0] = kind
  new DataView(frame.buffer).setUint32(1, id)
  frame.set(payload, FRAME_HEADER_LENGTH)
  return frame
}

/** True when a link message is a stream frame rather than a CBOR link message (`spec/transfer.md` §2.1). */
export function isStreamFrame(message: Uint8Array): boolean {
  const kind = message[0]
  return kind !== undefined && kind >= FRAME.request && kind <= FRAME.stop
}

/** The `{code, message}` body of ERROR, RESET and STOP frames. */
export function encodeErrorBody(code: string, message: string): Uint8Array {
  return encodeCbor({ code: code.slice(0, 64), message: message.slice(0, MAX_ERROR_MESSAGE) })
}

function decodeErrorBody(body: Uint8Array): TransferError {
  const { code, message } = decodeCbor(ErrorBody, body)
  return remoteError(code, message)
}

/** Data waits for credit; an END needs none. */
function canSend(out: Outgoing): boolean {
  return out.queued > 0 ? out.credit > 0 : out.ending
}

/** The multiplexer state of one link. */
export class MuxCore {
  readonly #control: Uint8Array[] = []
  readonly #events: MuxEvent[] = []
  readonly #pending = new Map<number, Pending>()
  readonly #outgoing = new Map<number, Outgoing>()
  readonly #incoming = new Map<number, Incoming>()
  readonly #window: number
  #ready: number[] = []
  #nextRequest = 1
  #nextStream = 1
  #highestIncoming = 0
  #closed: TransferError | null = null
  /** When the peer's last frame arrived. */
  #lastHeard = -Infinity
  /** Frames for streams or requests that no longer exist (late after a reset or timeout): dropped. */
  discarded = 0

  constructor(options: { window?: number } = {}) {
    this.#window = options.window ?? STREAM_WINDOW
  }

  get closed(): boolean {
    return this.#closed !== null
  }

  /** Sends a request; its `response` or `request-failed` event carries the returned id. */
  request(body: Uint8Array, now: number, timeoutMs: number): number {
    this.#assertOpen()
    const id = this.#nextRequest++
    this.#pending.set(id, { sentAt: now, deadline: now + timeoutMs, timeoutMs })
    this.#control.push(encodeFrame(FRAME.request, id, body))
    return id
  }

  /** Answers the peer's request `id`. */
  respond(id: number, body: Uint8Array): void {
    if (this.#closed === null) this.#control.push(encodeFrame(FRAME.response, id, body))
  }

  /** Answers the peer's request `id` with an error. */
  respondError(id: number, code: string, message: string): void {
    if (this.#closed === null)
      this.#control.push(encodeFrame(FRAME.error, id, encodeErrorBody(code, message)))
  }

  /** Opens a stream towards the peer with an application `header`; returns its id. */
  open(header: Uint8Array): number {
    this.#assertOpen()
    const stream = this.#nextStream++
    this.#outgoing.set(stream, { credit: this.#window, pieces: [], queued: 0, ending: false })
    this.#control.push(encodeFrame(FRAME.open, stream, header))
    return stream
  }

  /** Queues bytes on an open stream of ours; false when the stream is gone (reset or stopped). */
  write(stream: number, data: Uint8Array): boolean {
    const out = this.#outgoing.get(stream)
    if (out === undefined || out.ending) return false
    if (data.length === 0) return true
    out.pieces.push(data)
    out.queued += data.length
    this.#markReady(stream, out)
    return true
  }

  /** Bytes queued on our stream and not yet framed; -1 when the stream is gone. */
  buffered(stream: number): number {
    return this.#outgoing.get(stream)?.queued ?? -1
  }

  /** Ends our stream after what is queued. */
  end(stream: number): void {
    const out = this.#outgoing.get(stream)
    if (out === undefined || out.ending) return
    out.ending = true
    this.#markReady(stream, out)
  }

  /** Aborts our stream at once: what is queued is dropped and the peer told why. */
  reset(stream: number, code: string, message: string): void {
    if (!this.#outgoing.delete(stream)) return
    this.#control.push(encodeFrame(FRAME.reset, stream, encodeErrorBody(code, message)))
  }

  /** Refuses or abandons the peer's stream: the peer stops sending on it. */
  stop(stream: number, code: string, message: string): void {
    if (!this.#incoming.delete(stream)) return
    this.#control.push(encodeFrame(FRAME.stop, stream, encodeErrorBody(code, message)))
  }

  /** The application has used `bytes` of the peer's stream: grants the peer that much more credit. */
  consume(stream: number, bytes: number): void {
    const incoming = this.#incoming.get(stream)
    if (incoming === undefined) return
    incoming.consumed += bytes
    const increment = incoming.consumed + this.#window - incoming.granted
    if (increment < this.#window / 2) return
    incoming.granted += increment
    const payload = new Uint8Array(4)
    new DataView(payload.buffer).setUint32(0, increment)
    this.#control.push(encodeFrame(FRAME.credit, stream, payload))
  }

  /** Handles one link message that {@link isStreamFrame} accepted. */
  receive(frame: Uint8Array, now: number): void {
    if (this.#closed !== null) return
    this.#lastHeard = now
    try {
      this.#dispatch(frame)
    } catch (err) {
      const error =
        err instanceof TransferError ? err : TransferError.protocol((err as Error).message ?? String(err))
      this.close(error)
      this.#events.push({ type: 'error', error })
    }
  }

  /**
   * The next frame to send, as pieces that make one link message, or null: control frames first, then
   * stream data round-robin. A DATA frame's payload pieces are views of the written bytes, not copies.
   */
  pollTransmit(): Uint8Array[] | null {
    const control = this.#control.shift()
    if (control !== undefined) return [control]
    while (this.#ready.length > 0) {
      const stream = this.#ready.shift()!
      const out = this.#outgoing.get(stream)
      if (out === undefined) continue
      const frame = this.#dataFrame(stream, out)
      if (frame === null) continue
      if (this.#outgoing.has(stream) && canSend(out)) this.#ready.push(stream)
      return frame
    }
    return null
  }

  nextEvent(): MuxEvent | null {
    return this.#events.shift() ?? null
  }

  /** The earliest request deadline, or null. */
  pollTimeout(): number | null {
    let earliest: number | null = null
    for (const pending of this.#pending.values())
      if (earliest === null || pending.deadline < earliest) earliest = pending.deadline
    return earliest
  }

  /**
   * Fails every request whose deadline passed with STREAM_TIMEOUT. When one of them heard nothing from
   * the peer in all its time, the link is taken for dead: a `silent` event, and the core closes
   * (`spec/transfer.md` §2.4).
   */
  handleTimeout(now: number): void {
    let silent = false
    for (const [id, pending] of this.#pending) {
      if (pending.deadline > now) continue
      this.#pending.delete(id)
      silent ||= this.#lastHeard < pending.sentAt
      this.#events.push({
        type: 'request-failed',
        id,
        error: TransferError.timeout('a request', pending.timeoutMs),
      })
    }
    if (!silent) return
    this.#events.push({ type: 'silent' })
    this.close(TransferError.linkSilent())
  }

  /** The link is gone: every request fails and every stream resets with `error` (STREAM_LINK_CLOSED). */
  close(error: TransferError = TransferError.linkClosed()): void {
    if (this.#closed !== null) return
    this.#closed = error
    for (const id of this.#pending.keys()) this.#events.push({ type: 'request-failed', id, error })
    for (const stream of this.#outgoing.keys())
      this.#events.push({ type: 'stream-reset', stream, incoming: false, error })
    for (const stream of this.#incoming.keys())
      this.#events.push({ type: 'stream-reset', stream, incoming: true, error })
    this.#pending.clear()
    this.#outgoing.clear()
    this.#incoming.clear()
    this.#control.length = 0
    this.#ready = []
  }

  #assertOpen(): void {
    if (this.#closed !== null) throw this.#closed
  }

  #markReady(stream: number, out: Outgoing): void {
    if (canSend(out) && !this.#ready.includes(stream)) this.#ready.push(stream)
  }

  /**
   * Frames up to one DATA frame of what `stream` has queued (its header, then views of the queued bytes),
   * or its END once all is sent.
   */
  #dataFrame(stream: number, out: Outgoing): Uint8Array[] | null {
    if (out.queued === 0) {
      if (!out.ending) return null
      this.#outgoing.delete(stream)
      return [encodeFrame(FRAME.end, stream)]
    }
    const length = Math.min(out.queued, out.credit, MAX_DATA_LENGTH)
    if (length === 0) return null
    const frame: Uint8Array[] = [encodeFrame(FRAME.data, stream)]
    let filled = 0
    while (filled < length) {
      const piece = out.pieces[0]!
      const take = Math.min(piece.length, length - filled)
      frame.push(take === piece.length ? piece : piece.subarray(0, take))
      filled += take
      if (take === piece.length) out.pieces.shift()
      else out.pieces[0] = piece.subarray(take)
    }
    out.queued -= length
    out.credit -= length
    return frame
  }

  #dispatch(frame: Uint8Array): void {
    if (frame.length < FRAME_HEADER_LENGTH) throw TransferError.protocol(`a frame of ${frame.length} bytes`)
    const kind = frame[0]!
    const id = new DataView(frame.buffer, frame.byteOffset, frame.byteLength).getUint32(1)
    const payload = frame.subarray(FRAME_HEADER_LENGTH)
    switch (kind) {
      case FRAME.request:
        return void this.#events.push({ type: 'request', id, body: payload })
      case FRAME.response:
      case FRAME.error:
        return void this.#answered(id, kind, payload)
      case FRAME.open:
        return void this.#opened(id, payload)
      case FRAME.data:
        return void this.#data(id, payload)
      case FRAME.end:
        return void this.#ended(id)
      case FRAME.reset:
        return void this.#peerReset(id, payload)
      case FRAME.credit:
        return void this.#credited(id, payload)
      case FRAME.stop:
        return void this.#stopped(id, payload)
      default:
        throw TransferError.protocol(`unknown frame kind ${kind}`)
    }
  }

  #answered(id: number, kind: number, payload: Uint8Array): void {
    if (!this.#pending.delete(id)) {
      this.discarded++
      return
    }
    if (kind === FRAME.response) this.#events.push({ type: 'response', id, body: payload })
    else this.#events.push({ type: 'request-failed', id, error: decodeErrorBody(payload) })
  }

  #opened(stream: number, header: Uint8Array): void {
    if (stream <= this.#highestIncoming) throw TransferError.protocol(`stream ${stream} opened out of order`)
    this.#highestIncoming = stream
    if (this.#incoming.size >= MAX_INCOMING_STREAMS) {
      this.#control.push(
        encodeFrame(FRAME.stop, stream, encodeErrorBody('STREAM_PROTOCOL', 'too many open streams')),
      )
      return
    }
    this.#incoming.set(stream, { received: 0, granted: this.#window, consumed: 0 })
    this.#events.push({ type: 'stream-open', stream, header })
  }

  /** The peer's stream or, for an id it never opened, a protocol error; null for a stream already gone. */
  #incomingOf(stream: number): Incoming | null {
    const incoming = this.#incoming.get(stream)
    if (incoming !== undefined) return incoming
    if (stream > this.#highestIncoming || stream === 0)
      throw TransferError.protocol(`a frame for stream ${stream}, never opened`)
    this.discarded++
    return null
  }

  #data(stream: number, data: Uint8Array): void {
    const incoming = this.#incomingOf(stream)
    if (incoming === null) return
    incoming.received += data.length
    if (incoming.received > incoming.granted)
      throw TransferError.flow(stream, incoming.received - incoming.granted)
    this.#events.push({ type: 'stream-data', stream, data })
  }

  #ended(stream: number): void {
    if (this.#incomingOf(stream) === null) return
    this.#incoming.delete(stream)
    this.#events.push({ type: 'stream-end', stream })
  }

  #peerReset(stream: number, payload: Uint8Array): void {
    if (this.#incomingOf(stream) === null) return
    this.#incoming.delete(stream)
    this.#events.push({ type: 'stream-reset', stream, incoming: true, error: decodeErrorBody(payload) })
  }

  #credited(stream: number, payload: Uint8Array): void {
    if (payload.length !== 4) throw TransferError.protocol('a CREDIT frame without a 32-bit increment')
    const out = this.#outgoing.get(stream)
    if (out === undefined) {
      if (stream >= this.#nextStream)
        throw TransferError.protocol(`credit for stream ${stream}, never opened`)
      this.discarded++
      return
    }
    out.credit += new DataView(payload.buffer, payload.byteOffset, 4).getUint32(0)
    this.#markReady(stream, out)
  }

  #stopped(stream: number, payload: Uint8Array): void {
    if (!this.#outgoing.delete(stream)) {
      if (stream >= this.#nextStream) throw TransferError.protocol(`stop for stream ${stream}, never opened`)
      this.discarded++
      return
    }
    this.#events.push({ type: 'stream-reset', stream, incoming: false, error: decodeErrorBody(payload) })
  }
}
