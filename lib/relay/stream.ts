import type { Socket } from 'node:net'
import { Duplex } from 'node:stream'
import type { WebSocket } from 'ws'
import { CLOSE, MAX_DATA_MESSAGE } from './constants.js'
import { RelayError } from './errors.js'

const EMPTY = new Uint8Array(0)
/** Pieces up to this length are copied into one message with their neighbours; longer ones are sent as they are. */
const GATHER_LIMIT = 1024

/**
 * The binary messages that carry `pieces` on a circuit, in order, none empty or over
 * {@link MAX_DATA_MESSAGE} bytes. A long piece goes out as views of itself, never copied: a Noise frame
 * (`spec/noise.md` §4) is 65,537 bytes at most, one more than a message holds, so joining whole frames into
 * messages would copy every byte sent. Short pieces (a frame's 16-byte tag and the next frame's 3-byte
 * head) are joined, so a frame costs two messages rather than three or more.
 */
export function circuitMessages(pieces: readonly Buffer[]): Buffer[] {
  const messages: Buffer[] = []
  let gathered: Buffer[] = []
  let gatheredLength = 0
  const flush = () => {
    if (gatheredLength === 0) return
    messages.push(gathered.length === 1 ? gathered[0]! : Buffer.concat(gathered, gatheredLength))
    gathered = []
    gatheredLength = 0
  }
  for (const piece of pieces) {
    if (piece.length > GATHER_LIMIT) {
      flush()
      for (let at = 0; at < piece.length; at += MAX_DATA_MESSAGE)
        messages.push(piece.subarray(at, at + MAX_DATA_MESSAGE))
    } else if (piece.length > 0) {
      if (gatheredLength + piece.length > MAX_DATA_MESSAGE) flush()
      gathered.push(piece)
      gatheredLength += piece.length
    }
  }
  flush()
  return messages
}

/**
 * A spliced circuit as a byte stream (`spec/relay.md` §3.3): each write goes out as binary messages of at
 * most {@link MAX_DATA_MESSAGE} bytes, each message received is pushed. TCP's half-close is kept: `end()`
 * sends an empty message, an empty message received ends the readable side, and the WebSocket closes
 * once both directions ended, and the stream is destroyed when it has closed. A close other than 1000
 * destroys the stream with a `RelayError`.
 */
export class RelayStream extends Duplex {
  readonly #ws: WebSocket
  readonly #tcp: Socket | undefined
  #receivedEnd = false

  /**
   * `ws` must be spliced (`connected` received); `early`: messages that followed `connected` already;
   * `tcp`: the connection under `ws` (its upgrade response's socket), corked while one write's messages are
   * handed to `ws` so that they leave in one system call rather than one each.
   */
  constructor(ws: WebSocket, { early = [], tcp }: { early?: readonly Buffer[]; tcp?: Socket } = {}) {
    // Destroyed when the WebSocket closes, not as soon as both directions ended: like a TCP socket's
    // 'close', that comes a round trip later, after a reader had the chance to take what it buffered.
    super({ allowHalfOpen: false, autoDestroy: false })
    this.#ws = ws
    this.#tcp = tcp
    for (const data of early) this.#onMessage(data, true)
    ws.on('message', this.#onMessage)
    ws.on('close', this.#onClose)
    ws.on('error', (err) => this.destroy(RelayError.unreachable('circuit', err)))
    this.on('finish', () => this.#closeWhenDone())
    if (ws.readyState === ws.CLOSED)
      this.destroy(RelayError.unreachable('circuit', new Error('closed before use')))
  }

  readonly #onMessage = (data: Buffer, isBinary: boolean): void => {
    if (!isBinary) return void this.destroy(RelayError.protocol('text message on a circuit'))
    if (data.length > 0) {
      if (!this.push(data)) this.#ws.pause()
      return
    }
    this.#receivedEnd = true
    this.push(null)
    this.#closeWhenDone()
  }

  readonly #onClose = (code: number, reason: Buffer): void => {
    if (code === CLOSE.normal) {
      if (!this.#receivedEnd) this.push(null)
      this.destroy()
    } else this.destroy(RelayError.closedByRelay(code, reason.toString('utf8')))
  }

  override _read(): void {
    this.#ws.resume()
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (err?: Error | null) => void): void {
    this.#sendPieces([chunk], callback)
  }

  /** Corked writes (a Noise frame's header, body and tag) leave with their small pieces gathered. */
  override _writev(
    chunks: { chunk: Buffer; encoding: BufferEncoding }[],
    callback: (err?: Error | null) => void,
  ): void {
    this.#sendPieces(
      chunks.map(({ chunk }) => chunk),
      callback,
    )
  }

  #sendPieces(pieces: readonly Buffer[], callback: (err?: Error | null) => void): void {
    const messages = circuitMessages(pieces)
    if (messages.length === 0) return void callback()
    if (this.#closing(callback)) return
    const last = messages.length - 1
    this.#tcp?.cork()
    for (let i = 0; i < last; i++) this.#ws.send(messages[i]!, { binary: true })
    this.#ws.send(messages[last]!, { binary: true }, (err) => callback(err ?? null))
    this.#tcp?.uncork()
  }

  override _final(callback: (err?: Error | null) => void): void {
    if (this.#closing(callback)) return
    this.#ws.send(EMPTY, { binary: true }, (err) => callback(err ?? null))
  }

  override _destroy(err: Error | null, callback: (err?: Error | null) => void): void {
    this.#ws.off('message', this.#onMessage)
    if (this.#ws.readyState === this.#ws.OPEN) this.#ws.close(CLOSE.normal, err === null ? 'done' : 'error')
    else if (this.#ws.readyState === this.#ws.CONNECTING) this.#ws.terminate()
    callback(err)
  }

  /**
   * A write that meets a closing WebSocket (the relay's close frame arrived, its 'close' event has not)
   * waits for that event, so the stream fails with the relay's reason rather than "WebSocket is not open".
   */
  #closing(callback: (err?: Error | null) => void): boolean {
    if (this.#ws.readyState !== this.#ws.CLOSING) return false
    this.#ws.once('close', (code: number, reason: Buffer) =>
      callback(RelayError.closedByRelay(code, reason.toString('utf8'))),
    )
    return true
  }

  #closeWhenDone(): void {
    if (this.#receivedEnd && this.writableFinished && this.#ws.readyState === this.#ws.OPEN)
      this.#ws.close(CLOSE.normal, 'done')
  }
}
