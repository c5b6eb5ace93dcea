import { LENGTH_PREFIX } from './constants.js'

/** Receives the frames a {@link FrameDecoder} finds: a start with the length, body pieces, an end. */
export interface FrameSink {
  frameStart(length: number): void
  frameData(piece: Uint8Array): void
  frameEnd(): void
}

/**
 * Splits a byte stream into 2-byte big-endian length-prefixed frames (`spec/noise.md` §4), sans-I/O and
 * without copying: body pieces are views of the input. A frame that spans input chunks arrives in pieces.
 * Exceptions thrown by the sink propagate; the caller then stops feeding.
 */
export class FrameDecoder {
  readonly #sink: FrameSink
  #header = 0
  #headerBytes = 0
  #remaining = 0
  #inBody = false

  constructor(sink: FrameSink) {
    this.#sink = sink
  }

  /** True when a frame (or its length prefix) started but did not finish: an end of stream here is truncation. */
  get midFrame(): boolean {
    return this.#inBody || this.#headerBytes > 0
  }

  /** Feeds bytes from the stream. */
  push(bytes: Uint8Array): void {
    let offset = 0
    while (offset < bytes.length)
      offset = this.#inBody ? this.#body(bytes, offset) : this.#prefix(bytes, offset)
  }

  #prefix(bytes: Uint8Array, offset: number): number {
    this.#header = (this.#header << 8) | bytes[offset]!
    if (++this.#headerBytes < LENGTH_PREFIX) return offset + 1
    const length = this.#header
    this.#header = 0
    this.#headerBytes = 0
    this.#remaining = length
    this.#inBody = true
    this.#sink.frameStart(length)
    if (length === 0) this.#finish()
    return offset + 1
  }

  #body(bytes: Uint8Array, offset: number): number {
    const end = Math.min(bytes.length, offset + this.#remaining)
    this.#remaining -= end - offset
    this.#sink.frameData(bytes.subarray(offset, end))
    if (this.#remaining === 0) this.#finish()
    return end
  }

  #finish(): void {
    this.#inBody = false
    this.#sink.frameEnd()
  }
}
