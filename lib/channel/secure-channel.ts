/**
 * The one file of `lib/channel` that touches streams and clocks: it runs a {@link ChannelCore} over any
 * Node Duplex (a net.Socket, or a relayed stream) and exposes the message and stream APIs
 * (`spec/noise.md` §7).
 * @module
 */
import { Duplex } from 'node:stream'
import type { Ed25519KeyPair, X25519KeyPair } from '../crypto/index.js'
import { PairctlError } from '../errors.js'
import { ephemeralPool } from '../noise/ephemeral.js'
import type { ChannelPattern } from '../noise/secure-handshake.js'
import {
  DEFAULT_HANDSHAKE_TIMEOUT_MS,
  DEFAULT_IDLE_TIMEOUT_MS,
  DEFAULT_KEEPALIVE_MS,
  MAX_MESSAGE_LENGTH,
} from './constants.js'
import {
  ChannelCore,
  type ChannelCoreOptions,
  type ChannelEvent,
  type ChannelInfo,
  type MessageBytes,
  messageLength,
} from './core.js'
import { ChannelError } from './errors.js'

/** Messages buffered for a slow reader before the connection is paused (message API). */
const MESSAGE_HIGH_WATER_MARK = 16
/** Bytes buffered for a slow reader before the connection is paused (stream API). */
const STREAM_HIGH_WATER_MARK = 256 * 1024

/** Options of {@link openChannel}. */
export interface OpenChannelOptions {
  role: 'initiator' | 'responder'
  /**
   * This device's identity; its signature binds the Noise static key (`spec/noise.md` §2.4). Omit it
   * (and give a fresh `staticKey`) for an anonymous handshake, as pairing runs (`spec/noise.md` §2.7).
   */
  identity?: Ed25519KeyPair
  /** `XX` (default) for first contact and pairing, `IK` for reconnects to a known peer. */
  pattern?: Extract<ChannelPattern, 'XX' | 'IK'>
  /** IK initiator: the responder's Noise static public key, learned at pairing (`spec/noise.md` §2.1). */
  remoteStaticKey?: Uint8Array
  /** Purpose bytes mixed into the prologue, e.g. utf8('pairing'); both sides must agree. */
  prologue?: Uint8Array
  /** Application bytes carried encrypted inside this side's handshake payload (≤ 4096 bytes). */
  payload?: Uint8Array
  /** Fail with NOISE_BAD_IDENTITY unless the peer proves this Ed25519 identity key. */
  remoteIdentityKey?: Uint8Array
  /** Default: derived from `identity` (`spec/noise.md` §2.5). */
  staticKey?: X25519KeyPair
  /** Default 10 000 ms. */
  handshakeTimeoutMs?: number
  /** Default 60 000 ms; 0 disables. The peer's keepalives keep an idle channel open. */
  idleTimeoutMs?: number
  /** Default 15 000 ms; 0 disables sending keepalives. */
  keepaliveMs?: number
  /** Aborts the handshake (openChannel rejects with CHANNEL_ABORTED) or, later, destroys the channel. */
  signal?: AbortSignal
}

/**
 * Runs the pairctl handshake over `duplex` and resolves with the open {@link SecureChannel}, or rejects with a
 * NoiseError / ChannelError (the duplex is then destroyed). `spec/noise.md` §2-§7.
 */
export function openChannel(duplex: Duplex, options: OpenChannelOptions): Promise<SecureChannel> {
  let core: ChannelCore
  try {
    if (options.signal?.aborted) throw ChannelError.aborted(options.signal.reason)
    core = new ChannelCore(coreOptions(options), performance.now())
  } catch (err) {
    duplex.destroy()
    return Promise.reject(err)
  }
  return new Promise((resolve, reject) => {
    const channel: SecureChannel = new SecureChannel(duplex, core, options.signal, (err) =>
      err === undefined ? resolve(channel) : reject(err),
    )
  })
}

function coreOptions(options: OpenChannelOptions): ChannelCoreOptions {
  return {
    ...options,
    handshakeTimeoutMs: options.handshakeTimeoutMs ?? DEFAULT_HANDSHAKE_TIMEOUT_MS,
    idleTimeoutMs: options.idleTimeoutMs ?? DEFAULT_IDLE_TIMEOUT_MS,
    keepaliveMs: options.keepaliveMs ?? DEFAULT_KEEPALIVE_MS,
  }
}

/**
 * An open, authenticated, encrypted channel. Use either the message API ({@link send} / {@link messages})
 * or the byte-stream API ({@link stream}), not both. Errors after the handshake reject {@link closed}, fail
 * the message iterator and destroy the stream; nothing is ever thrown into the event loop.
 */
export class SecureChannel implements ChannelInfo {
  handshakeHash = new Uint8Array(0)
  remoteIdentityKey = new Uint8Array(0)
  remoteDeviceId = ''
  remoteStaticKey = new Uint8Array(0)
  remotePayload: Uint8Array | undefined
  /** Resolves when the connection closed cleanly, rejects with the error that ended it. Never unhandled. */
  readonly closed: Promise<void>
  readonly #source: Duplex
  readonly #core: ChannelCore
  readonly #signal: AbortSignal | undefined
  #onOpen: ((err?: Error) => void) | undefined
  #resolveClosed!: () => void
  #rejectClosed!: (err: Error) => void
  #inner: Duplex | undefined
  #pending: ChannelEvent[] = []
  #timer: NodeJS.Timeout | undefined
  #timerAt = Infinity
  #error: PairctlError | undefined
  #done = false
  #corked = false
  /** The inner stream's write callback while the connection's buffer is over its high-water mark. */
  #drainWaiter: ((err?: Error | null) => void) | undefined

  /** @internal Use {@link openChannel}. */
  constructor(
    duplex: Duplex,
    core: ChannelCore,
    signal: AbortSignal | undefined,
    onOpen: (err?: Error) => void,
  ) {
    this.closed = new Promise((resolve, reject) => {
      this.#resolveClosed = resolve
      this.#rejectClosed = reject
    })
    this.closed.catch(() => {})
    this.#source = duplex
    this.#core = core
    this.#onOpen = onOpen
    this.#signal = signal
    signal?.addEventListener('abort', this.#onAbort)
    // Our close frame must still go out after the peer's FIN (spec/noise.md §5).
    duplex.allowHalfOpen = true
    this.#listen()
    this.#pump()
  }

  /**
   * Message API: sends one message (≤ MAX_MESSAGE_LENGTH = 65518 bytes), whole or as pieces whose
   * concatenation it is (not copied); resolves once handed to the socket. The pieces must stay unchanged
   * until then.
   */
  send(message: MessageBytes): Promise<void> {
    const size = messageLength(message)
    if (size > MAX_MESSAGE_LENGTH)
      return Promise.reject(ChannelError.messageTooLarge(size, MAX_MESSAGE_LENGTH))
    const inner = this.#mode(true)
    if (this.#error !== undefined) return Promise.reject(this.#error)
    if (inner.writableEnded) return Promise.reject(ChannelError.closed('cannot send after close()', false))
    return new Promise((resolve, reject) =>
      inner.write(message, (err) =>
        err ? reject(this.#error ?? ChannelError.closed(String(err), false)) : resolve(),
      ),
    )
  }

  /** Message API: the peer's messages in order; ends at the peer's close, throws the error that ended the channel. */
  messages(): AsyncIterable<Uint8Array> {
    return this.#mode(true).iterator({ destroyOnReturn: false })
  }

  /** Stream API: a byte Duplex; `end()` sends the authenticated close, the readable side ends at the peer's. */
  stream(): Duplex {
    return this.#mode(false)
  }

  /** Graceful close: flushes what was sent, then sends the close frame; the peer's close completes it. */
  close(): void {
    if (this.#done) return
    if (this.#inner !== undefined) this.#inner.end()
    else this.#closeOutput()
  }

  /** Closes at once, without the close frame; `closed` rejects with `err` when one is given. */
  destroy(err?: Error): void {
    if (err === undefined) this.#finish(undefined)
    else this.#fail(err instanceof PairctlError ? err : ChannelError.io(err))
  }

  readonly #onAbort = (): void => this.#fail(ChannelError.aborted(this.#signal?.reason))

  #listen(): void {
    const source = this.#source
    source.on('data', (chunk: Buffer) => {
      if (this.#done) return
      this.#core.receive(chunk, performance.now())
      this.#pump()
    })
    source.on('end', () => {
      this.#core.receiveEnd()
      this.#pump()
    })
    source.on('error', (err) => this.#fail(ChannelError.io(err)))
    source.on('drain', this.#onDrain)
    source.on('close', () => {
      if (!this.#done) this.#connectionClosed()
      // After the verdict, so a write waiting for drain completes with the error that ended the channel.
      this.#onDrain()
    })
  }

  /** The connection closed under an open channel: clean only after both close frames. */
  #connectionClosed(): void {
    if (this.#core.sentClose && this.#core.receivedClose) this.#finish(undefined)
    else this.#fail(ChannelError.closed('connection closed before both sides closed the channel', true))
  }

  /** Writes what the core queued, dispatches its events and re-arms the timer. */
  #pump(): void {
    this.#flush()
    for (let event = this.#core.nextEvent(); event !== null; event = this.#core.nextEvent())
      this.#dispatch(event)
    this.#arm()
  }

  /**
   * Hands queued frames to the stream, corked until the end of this event-loop turn: frames produced in one
   * turn (a handshake message and the first data, data and the close frame, many send() calls) leave in one
   * writev, which on loopback costs a fraction of several small writes and their wake-ups.
   */
  #flush(): boolean {
    const pieces = this.#core.pollTransmit()
    const source = this.#source
    if (pieces === null || source.destroyed || source.writableEnded) return !source.writableNeedDrain
    if (!this.#corked) {
      this.#corked = true
      source.cork()
      setImmediate(this.#uncork)
    }
    for (const piece of pieces) source.write(piece)
    refillEphemerals()
    return !source.writableNeedDrain
  }

  readonly #uncork = (): void => {
    this.#corked = false
    this.#source.uncork()
  }

  #dispatch(event: ChannelEvent): void {
    if (event.type === 'error') this.#fail(event.error)
    else if (event.type === 'handshake') this.#opened(event.info)
    else if (this.#inner !== undefined) this.#deliver(this.#inner, event)
    else this.#hold(event)
  }

  /** Keeps what arrives before the application chose an API, pausing the stream meanwhile. */
  #hold(event: ChannelEvent): void {
    this.#pending.push(event)
    this.#source.pause()
    // Nobody chose an API yet, so nobody will end our side: close it as the message API would.
    if (event.type === 'end') this.#closeOutput()
  }

  #opened(info: ChannelInfo): void {
    Object.assign(this, info)
    this.#onOpen?.()
    this.#onOpen = undefined
  }

  #deliver(inner: Duplex, event: ChannelEvent): void {
    if (event.type === 'end') {
      inner.push(null)
      if (inner.readableObjectMode) this.close()
      return
    }
    if (event.type !== 'data') return
    let more = true
    if (inner.readableObjectMode) more = inner.push(joined(event.chunks))
    else for (const chunk of event.chunks) more = inner.push(chunk)
    if (!more) this.#source.pause()
  }

  /** Creates the message-mode or stream-mode Duplex on first use and replays what arrived before. */
  #mode(messages: boolean): Duplex {
    if (this.#inner !== undefined) {
      if (this.#inner.readableObjectMode !== messages)
        throw ChannelError.misuse('a channel uses either the message API or stream(), not both')
      return this.#inner
    }
    const inner = this.#createInner(messages)
    this.#inner = inner
    inner.on('error', () => {})
    if (this.#error !== undefined) inner.destroy(this.#error)
    for (const event of this.#pending.splice(0)) this.#deliver(inner, event)
    return inner
  }

  #createInner(messages: boolean): Duplex {
    return new Duplex({
      objectMode: messages,
      highWaterMark: messages ? MESSAGE_HIGH_WATER_MARK : STREAM_HIGH_WATER_MARK,
      allowHalfOpen: !messages,
      read: () => {
        if (!this.#done && this.#source.isPaused()) this.#source.resume()
      },
      writev: (chunks, callback) => this.#write(chunks, messages, callback),
      final: (callback) => {
        this.#closeOutput()
        callback()
      },
      destroy: (err, callback) => {
        if (err !== null) this.#fail(err instanceof PairctlError ? err : ChannelError.io(err))
        else if (!this.#done) this.#finish(undefined)
        callback(err)
      },
    })
  }

  #write(chunks: { chunk: Uint8Array }[], messages: boolean, callback: (err?: Error | null) => void): void {
    if (this.#error !== undefined) {
      callback(this.#error)
      return
    }
    try {
      const now = performance.now()
      if (messages) for (const { chunk } of chunks) this.#core.sendMessage(chunk as MessageBytes, now)
      else
        this.#core.sendData(
          chunks.map(({ chunk }) => chunk),
          now,
        )
    } catch (err) {
      callback(err as Error)
      return
    }
    if (this.#flush()) callback()
    else this.#drainWaiter = callback
  }

  /** The connection drained or closed: the write waiting for it completes (with the error, if one ended it). */
  readonly #onDrain = (): void => {
    const callback = this.#drainWaiter
    this.#drainWaiter = undefined
    callback?.(this.#error)
  }

  #closeOutput(): void {
    // A failed core reports its error through its event; closing during the handshake abandons it.
    if (this.#core.phase === 'failed') return
    if (this.#core.phase === 'handshake') {
      this.destroy()
      return
    }
    this.#core.close(performance.now())
    this.#flush()
    this.#source.end()
    this.#arm()
  }

  #arm(): void {
    const deadline = this.#done ? null : this.#core.pollTimeout()
    if (deadline === null) {
      this.#disarm()
      return
    }
    if (this.#timer !== undefined && this.#timerAt <= deadline) return
    this.#disarm()
    this.#timerAt = deadline
    this.#timer = setTimeout(this.#onTimer, Math.max(0, deadline - performance.now()))
  }

  readonly #onTimer = (): void => {
    this.#timer = undefined
    this.#timerAt = Infinity
    this.#core.handleTimeout(performance.now())
    this.#pump()
  }

  #disarm(): void {
    clearTimeout(this.#timer)
    this.#timer = undefined
    this.#timerAt = Infinity
  }

  #fail(error: Error): void {
    if (this.#done) return
    const typed = error instanceof PairctlError ? error : ChannelError.io(error)
    this.#error = typed
    this.#core.fail(typed)
    this.#finish(typed)
  }

  #finish(error: PairctlError | undefined): void {
    if (this.#done) return
    this.#done = true
    this.#disarm()
    this.#signal?.removeEventListener('abort', this.#onAbort)
    this.#source.destroy()
    if (error !== undefined) this.#inner?.destroy(error)
    else if (this.#inner !== undefined && !this.#inner.destroyed) this.#inner.destroy()
    this.#onOpen?.(error ?? ChannelError.closed('channel closed during the handshake', false))
    this.#onOpen = undefined
    if (error === undefined) this.#resolveClosed()
    else this.#rejectClosed(error)
  }
}

let refillScheduled = false

/**
 * Tops up the process's ephemeral key pool once the bytes just queued are on their way: the check-phase
 * callback runs after the uncork scheduled before it, so the key generation the next handshake would wait
 * for happens while this one's message travels (`spec/noise.md` §2.5).
 */
function refillEphemerals(): void {
  if (refillScheduled || ephemeralPool.full) return
  refillScheduled = true
  setImmediate(() => {
    refillScheduled = false
    ephemeralPool.fill()
  })
}

function joined(chunks: Buffer[]): Uint8Array {
  const buffer = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks)
  return new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.byteLength)
}
