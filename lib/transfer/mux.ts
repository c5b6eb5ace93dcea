/**
 * The I/O side of {@link MuxCore}: runs one core over a device link's `send`, with promises for requests,
 * async iterators for incoming streams and backpressured writers for outgoing ones (`spec/transfer.md` §2).
 * @module
 */
import createDebug from 'debug'
import { PairctlError } from '../errors.js'
import { DEFAULT_REQUEST_TIMEOUT_MS } from './constants.js'
import { TransferError } from './errors.js'
import { isStreamFrame, MuxCore, type MuxEvent } from './mux-core.js'

const debug = createDebug('pairctl:transfer:mux')
/** Frames handed to the channel and not yet written out: bounds how far data runs ahead of a request. */
const MAX_IN_FLIGHT = 4
/** Bytes queued on one outgoing stream before `write` waits. */
const WRITE_HIGH_WATER = 256 * 1024

/** What the application does with the peer's requests and streams. */
export interface MuxHandlers {
  /** Answers a request; a thrown {@link PairctlError} goes back as its code and message. */
  request(body: Uint8Array): Promise<Uint8Array>
  /** A stream the peer opened; read it, or `stop()` it. */
  stream(header: Uint8Array, stream: IncomingStream): void
}

/** The peer's stream: its bytes in order; reading grants the peer credit for more. */
export class IncomingStream implements AsyncIterableIterator<Uint8Array> {
  readonly #items: Uint8Array[] = []
  #waiter: { resolve: (r: IteratorResult<Uint8Array>) => void; reject: (e: unknown) => void } | null = null
  #ended = false
  #error: TransferError | null = null

  /** @internal */
  constructor(
    private readonly onConsume: (bytes: number) => void,
    private readonly onStop: (code: string, message: string) => void,
  ) {}

  /** Abandons the stream: the peer stops sending; iteration ends. */
  stop(code: string, message: string): void {
    if (this.#ended) return
    this.onStop(code, message)
    this.finish(null)
  }

  next(): Promise<IteratorResult<Uint8Array>> {
    const item = this.#items.shift()
    if (item !== undefined) {
      this.onConsume(item.length)
      return Promise.resolve({ value: item, done: false })
    }
    if (this.#ended)
      return this.#error === null
        ? Promise.resolve({ value: undefined, done: true })
        : Promise.reject(this.#error)
    return new Promise((resolve, reject) => (this.#waiter = { resolve, reject }))
  }

  return(): Promise<IteratorResult<Uint8Array>> {
    this.stop('STREAM_RESET', 'the reader left')
    return Promise.resolve({ value: undefined, done: true })
  }

  [Symbol.asyncIterator](): this {
    return this
  }

  /** @internal */
  push(data: Uint8Array): void {
    if (this.#ended) return
    const waiter = this.#waiter
    if (waiter === null) return void this.#items.push(data)
    this.#waiter = null
    this.onConsume(data.length)
    waiter.resolve({ value: data, done: false })
  }

  /** @internal Ends after the queued bytes (`error` null) or at once with `error`. */
  finish(error: TransferError | null): void {
    if (this.#ended) return
    this.#ended = true
    this.#error = error
    if (error !== null) this.#items.length = 0
    const waiter = this.#waiter
    this.#waiter = null
    if (waiter === null) return
    if (error === null) waiter.resolve({ value: undefined, done: true })
    else waiter.reject(error)
  }
}

/** Our stream towards the peer. */
export interface OutgoingStream {
  readonly id: number
  /**
   * Queues `data`, which goes out as it is (framed as views, not copied: leave it unchanged); waits while
   * too much is queued; rejects once the stream is reset or stopped.
   */
  write(data: Uint8Array): Promise<void>
  /** Ends the stream after what is queued. */
  end(): void
  /** Aborts the stream. */
  reset(code: string, message: string): void
  /** Resolves when the stream ended or was reset: with null, or with the error that stopped it. */
  readonly done: Promise<TransferError | null>
}

interface Writer {
  wake: (() => void) | null
  error: TransferError | null
  settle: (error: TransferError | null) => void
}

/**
 * Streams and requests over one device link. `send` writes one link message (the channel's message API);
 * the link's reader passes every stream frame to {@link LinkMux.receive} and calls {@link LinkMux.close}
 * when the link ends.
 */
export class LinkMux {
  readonly #core = new MuxCore()
  readonly #send: (frame: readonly Uint8Array[]) => Promise<void>
  readonly #handlers: MuxHandlers
  readonly #requests = new Map<
    number,
    { resolve: (body: Uint8Array) => void; reject: (e: unknown) => void }
  >()
  readonly #incoming = new Map<number, IncomingStream>()
  readonly #writers = new Map<number, Writer>()
  #inFlight = 0
  #timer: NodeJS.Timeout | undefined
  #timerAt = Infinity
  /** Called once when the peer broke the protocol: the link must be closed. */
  onFatal: (error: TransferError) => void = () => {}
  /** Called once when a request timed out with nothing heard from the peer: the link must be closed. */
  onSilent: () => void = () => {}

  constructor(send: (frame: readonly Uint8Array[]) => Promise<void>, handlers: MuxHandlers) {
    this.#send = send
    this.#handlers = handlers
  }

  get closed(): boolean {
    return this.#core.closed
  }

  /** Frames the core dropped as late (for a stream or request already gone). */
  get discarded(): number {
    return this.#core.discarded
  }

  /** Sends a request and resolves with the response body; typed errors for timeouts, link loss, refusals. */
  request(body: Uint8Array, timeoutMs = DEFAULT_REQUEST_TIMEOUT_MS): Promise<Uint8Array> {
    let id: number
    try {
      id = this.#core.request(body, performance.now(), timeoutMs)
    } catch (err) {
      return Promise.reject(err)
    }
    const answer = new Promise<Uint8Array>((resolve, reject) => this.#requests.set(id, { resolve, reject }))
    this.#pump()
    return answer
  }

  /** Opens a stream towards the peer. */
  open(header: Uint8Array): OutgoingStream {
    const id = this.#core.open(header)
    let settle!: (error: TransferError | null) => void
    const done = new Promise<TransferError | null>((resolve) => (settle = resolve))
    const writer: Writer = { wake: null, error: null, settle }
    this.#writers.set(id, writer)
    this.#pump()
    return {
      id,
      done,
      write: (data) => this.#write(id, writer, data),
      end: () => {
        this.#core.end(id)
        this.#pump()
      },
      reset: (code, message) => {
        this.#core.reset(id, code, message)
        this.#endWriter(id, new TransferError('STREAM_RESET', `stream reset: ${message}`))
        this.#pump()
      },
    }
  }

  /** Takes one link message; false when it is not a stream frame (the caller decodes it). */
  receive(frame: Uint8Array): boolean {
    if (!isStreamFrame(frame)) return false
    this.#core.receive(frame, performance.now())
    this.#pump()
    return true
  }

  /** The link ended: fails every request and stream with STREAM_LINK_CLOSED. */
  close(): void {
    this.#core.close()
    this.#pump()
    clearTimeout(this.#timer)
  }

  async #write(id: number, writer: Writer, data: Uint8Array): Promise<void> {
    if (writer.error !== null) throw writer.error
    if (!this.#core.write(id, data)) throw writer.error ?? TransferError.linkClosed()
    this.#pump()
    while (this.#core.buffered(id) > WRITE_HIGH_WATER) {
      await new Promise<void>((resolve) => (writer.wake = resolve))
      if (writer.error !== null) throw writer.error
    }
  }

  #pump(): void {
    while (this.#inFlight < MAX_IN_FLIGHT) {
      const frame = this.#core.pollTransmit()
      if (frame === null) break
      this.#inFlight++
      this.#send(frame).then(
        () => {
          this.#inFlight--
          this.#pump()
        },
        (err) => {
          this.#inFlight--
          debug('link send failed: %s', (err as Error).message)
          this.close()
        },
      )
    }
    for (let event = this.#core.nextEvent(); event !== null; event = this.#core.nextEvent())
      this.#dispatch(event)
    this.#wakeWriters()
    this.#arm()
  }

  #wakeWriters(): void {
    for (const [id, writer] of this.#writers) {
      const buffered = this.#core.buffered(id)
      if (buffered === -1 && writer.error === null) this.#endWriter(id, null)
      else if (writer.wake !== null && buffered <= WRITE_HIGH_WATER) {
        const wake = writer.wake
        writer.wake = null
        wake()
      }
    }
  }

  #endWriter(id: number, error: TransferError | null): void {
    const writer = this.#writers.get(id)
    if (writer === undefined) return
    this.#writers.delete(id)
    writer.error = error ?? TransferError.linkClosed()
    writer.settle(error)
    writer.wake?.()
  }

  #dispatch(event: MuxEvent): void {
    switch (event.type) {
      case 'request':
        return void this.#answer(event.id, event.body)
      case 'response':
        this.#requests.get(event.id)?.resolve(event.body)
        return void this.#requests.delete(event.id)
      case 'request-failed':
        this.#requests.get(event.id)?.reject(event.error)
        return void this.#requests.delete(event.id)
      case 'stream-open':
        return void this.#accept(event.stream, event.header)
      case 'stream-data':
        return void this.#incoming.get(event.stream)?.push(event.data)
      case 'stream-end':
        this.#incoming.get(event.stream)?.finish(null)
        return void this.#incoming.delete(event.stream)
      case 'stream-reset':
        if (!event.incoming) return void this.#endWriter(event.stream, event.error)
        this.#incoming.get(event.stream)?.finish(event.error)
        return void this.#incoming.delete(event.stream)
      case 'error':
        debug('peer broke the stream protocol: %s', event.error.message)
        return void this.onFatal(event.error)
      case 'silent':
        debug('a request timed out and the peer said nothing meanwhile: the link is dead')
        return void this.onSilent()
    }
  }

  #answer(id: number, body: Uint8Array): void {
    this.#handlers
      .request(body)
      .then(
        (answer) => this.#core.respond(id, answer),
        (err) => {
          if (err instanceof PairctlError) this.#core.respondError(id, err.code, err.message)
          else {
            debug('request handler failed: %O', err)
            this.#core.respondError(id, 'STREAM_REMOTE', 'internal error')
          }
        },
      )
      .finally(() => this.#pump())
  }

  #accept(id: number, header: Uint8Array): void {
    const stream = new IncomingStream(
      (bytes) => {
        this.#core.consume(id, bytes)
        this.#pump()
      },
      (code, message) => {
        this.#incoming.delete(id)
        this.#core.stop(id, code, message)
        this.#pump()
      },
    )
    this.#incoming.set(id, stream)
    try {
      this.#handlers.stream(header, stream)
    } catch (err) {
      stream.stop('STREAM_REMOTE', (err as Error).message)
    }
  }

  #arm(): void {
    const deadline = this.#core.pollTimeout()
    if (deadline === null) {
      clearTimeout(this.#timer)
      this.#timer = undefined
      this.#timerAt = Infinity
      return
    }
    if (this.#timer !== undefined && this.#timerAt <= deadline) return
    clearTimeout(this.#timer)
    this.#timerAt = deadline
    this.#timer = setTimeout(
      () => {
        this.#timer = undefined
        this.#timerAt = Infinity
        this.#core.handleTimeout(performance.now())
        this.#pump()
      },
      Math.max(0, deadline - performance.now()),
    )
    this.#timer.unref()
  }
}
