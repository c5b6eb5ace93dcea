export type { TransferInfo }

/**
 * The transfers an instance knows, in memory, with what both sides share: the persisted record, the
 * manifest, progress and rate, and the subscribers of each transfer's progress.
 * @module
 */
import { AsyncQueue } from '../control/async-queue.js'
import type { TransferInfo } from '../control/protocol.js'
import type { DeviceStreams } from './device-streams.js'
import { chunkCount, chunkLength, type Manifest } from './manifest.js'
import { FINAL_STATES, type TransferRecord, type TransferState, type TransferStore } from './store.js'

/** How many seconds of progress the rate averages over. */
const RATE_WINDOW_MS = 3000
/** Progress events per transfer at most this often (state changes always). */
const PROGRESS_INTERVAL_MS = 200

/** Verified chunks of one file, as a bitmap. */
export class ChunkMap {
  readonly bits: Uint8Array

  constructor(
    readonly count: number,
    bits?: Uint8Array,
  ) {
    this.bits = bits ?? new Uint8Array(Math.ceil(count / 8))
  }

  static fromBase64(count: number, text: string): ChunkMap {
    const bits = new Uint8Array(Buffer.from(text, 'base64'))
    return new ChunkMap(count, bits.length === Math.ceil(count / 8) ? bits : undefined)
  }

  has(index: number): boolean {
    return (this.bits[index >> 3]! & (1 << (index & 7))) !== 0
  }

  set(index: number): void {
    this.bits[index >> 3]! |= 1 << (index & 7)
  }

  get complete(): boolean {
    for (let i = 0; i < this.count; i++) if (!this.has(i)) return false
    return true
  }

  /** Runs of missing chunks as `[first, count]`. */
  missing(): [number, number][] {
    const runs: [number, number][] = []
    for (let i = 0; i < this.count; i++) {
      if (this.has(i)) continue
      const last = runs.at(-1)
      if (last !== undefined && last[0] + last[1] === i) last[1]++
      else runs.push([i, 1])
    }
    return runs
  }

  toBase64(): string {
    return Buffer.from(this.bits).toString('base64')
  }
}

/** One transfer in memory. */
export class Entry {
  manifest: Manifest | null = null
  /** Receiver: verified chunks per file. */
  maps: ChunkMap[] = []
  transferred = 0
  /**
   * Sender: bytes of chunk data this process has written to the receiver's streams for this transfer, a
   * chunk sent again counting again (what went over the link, unlike `transferred`, which is progress).
   */
  sentBytes = 0
  /** Sender: chunks this process has written more than once (lost in flight, or failed their hash). */
  resentChunks = 0
  /** Sender: the chunks of each file this process has written at least once. */
  sentChunks: ChunkMap[] = []
  /** A receive loop or a serve is running. */
  running = false
  /** Aborts what runs for this transfer (cancel, reject, close). */
  abort = new AbortController()
  readonly #samples: [number, number][] = []
  readonly #subscribers = new Set<AsyncQueue<TransferInfo>>()
  #lastEvent = 0

  constructor(
    public record: TransferRecord,
    readonly target: string | null,
  ) {}

  get id(): string {
    return this.record.id
  }

  get final(): boolean {
    return FINAL_STATES.includes(this.record.state)
  }

  /** Receiver: verified bytes, from the chunk maps. */
  verifiedBytes(): number {
    let total = 0
    this.manifest?.files.forEach((file, index) => {
      const map = this.maps[index]
      if (map === undefined) return
      for (let chunk = 0; chunk < chunkCount(file.size); chunk++)
        if (map.has(chunk)) total += chunkLength(file.size, chunk)
    })
    return total
  }

  info(now = Date.now()): TransferInfo {
    const rate = this.rate(now)
    const left = this.record.bytes - this.transferred
    return {
      id: this.record.id,
      direction: this.record.direction,
      deviceId: this.record.deviceId,
      state: this.record.state,
      root: this.record.root,
      label: this.record.label,
      files: this.record.files,
      bytes: this.record.bytes,
      transferred: this.transferred,
      rate,
      etaSeconds: this.record.state === 'active' && rate > 0 ? Math.ceil(left / rate) : null,
      target: this.target,
      createdAt: new Date(this.record.createdAt).toISOString(),
      error: this.record.error ?? null,
      ...(this.record.direction === 'send'
        ? { sentBytes: this.sentBytes, resentChunks: this.resentChunks }
        : {}),
    }
  }

  /** Sender: chunk `chunk` of file `file` (of `count` chunks) was written to a stream. */
  countSent(file: number, chunk: number, count: number, bytes: number): void {
    const map = this.sentChunks[file] ?? new ChunkMap(count)
    this.sentChunks[file] = map
    if (map.has(chunk)) this.resentChunks++
    else map.set(chunk)
    this.sentBytes += bytes
  }

  /** Progress of `transferred` bytes in all; true when subscribers are due an event. */
  progress(transferred: number, now = Date.now()): boolean {
    this.transferred = transferred
    this.#samples.push([now, transferred])
    while (this.#samples.length > 2 && this.#samples[0]![0] < now - RATE_WINDOW_MS) this.#samples.shift()
    if (now - this.#lastEvent < PROGRESS_INTERVAL_MS) return false
    this.#lastEvent = now
    return true
  }

  rate(now: number): number {
    const first = this.#samples[0]
    const last = this.#samples.at(-1)
    if (first === undefined || last === undefined || now - last[0] > RATE_WINDOW_MS) return 0
    const elapsed = last[0] - first[0]
    return elapsed <= 0 ? 0 : Math.round(((last[1] - first[1]) * 1000) / elapsed)
  }

  /** This transfer's events from now until its final state. */
  follow(): AsyncQueue<TransferInfo> {
    const queue = new AsyncQueue<TransferInfo>(() => this.#subscribers.delete(queue))
    this.#subscribers.add(queue)
    queue.push(this.info())
    if (this.final) queue.end()
    return queue
  }

  publish(info: TransferInfo): void {
    for (const queue of this.#subscribers) {
      queue.push(info)
      if (this.final) queue.end()
    }
  }
}

/** What the sender and receiver sides share. */
export interface Book {
  readonly entries: Map<string, Entry>
  readonly streams: DeviceStreams
  readonly store: TransferStore
  /** Persists the record and tells subscribers (state changes). */
  save(entry: Entry): Promise<void>
  /** Tells subscribers of progress (throttled). */
  moved(entry: Entry, transferred: number): void
  /** Sets a new state (and error), persists and tells subscribers. */
  setState(entry: Entry, state: TransferState, error?: { code: string; message: string }): Promise<void>
}
