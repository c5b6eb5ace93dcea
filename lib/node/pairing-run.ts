import { AsyncQueue } from '../control/async-queue.js'
import type { DeviceInfo, PairingProgress } from '../control/protocol.js'
import { randomBytes, toHex } from '../crypto/index.js'
import { PairctlError } from '../errors.js'

/** Options of `node.generate` and `node.join` (`spec/control.md` §4.3). */
export interface PairingRequest {
  /** Words in a generated code (default: `lib/pairing`'s). */
  words?: number
  /** Give up after this long (generate: also the advert's lifetime). */
  timeoutMs?: number
  /** Called with the 6-digit SAS when given; pairing completes only if it resolves true. */
  confirm?: (sas: string) => Promise<boolean>
  signal?: AbortSignal
}

/**
 * One pairing in progress: an async iterator of {@link PairingProgress} steps ending with `paired` or
 * `failed`, and `result`, which resolves to the paired device or rejects with the pairing error.
 */
export class PairingRun implements AsyncIterable<PairingProgress> {
  readonly sessionId = toHex(randomBytes(8))
  readonly result: Promise<DeviceInfo>
  private readonly controller = new AbortController()
  private readonly listeners = new Set<AsyncQueue<PairingProgress>>()
  private readonly history: PairingProgress[] = []
  private settle!: { resolve(device: DeviceInfo): void; reject(err: unknown): void }

  constructor(private readonly onProgress: (run: PairingRun, progress: PairingProgress) => void) {
    this.result = new Promise((resolve, reject) => (this.settle = { resolve, reject }))
    this.result.catch(() => undefined)
  }

  /** Aborted by `cancel()` or the caller's signal; the pairing code watches it. */
  get signal(): AbortSignal {
    return this.controller.signal
  }

  /** Cancels the pairing: the advert is withdrawn and `result` rejects with `PAIRING_CANCELLED`. */
  cancel(reason?: unknown): void {
    this.controller.abort(reason)
  }

  /** Every step so far, then each new one, until the pairing ends. */
  [Symbol.asyncIterator](): AsyncIterator<PairingProgress> {
    const queue = new AsyncQueue<PairingProgress>(() => this.listeners.delete(queue))
    for (const step of this.history) queue.push(step)
    if (this.isOver()) queue.end()
    else this.listeners.add(queue)
    return queue
  }

  /** @internal reports a step. */
  report(progress: PairingProgress): void {
    if (this.isOver()) return
    this.history.push(progress)
    for (const queue of this.listeners) queue.push(progress)
    this.onProgress(this, progress)
    if (progress.type === 'paired' || progress.type === 'failed')
      for (const queue of this.listeners) queue.end()
  }

  /** @internal ends the run with the paired device. */
  succeed(device: DeviceInfo): void {
    this.report({ type: 'paired', device })
    this.settle.resolve(device)
  }

  /** @internal ends the run with an error. */
  fail(err: unknown): void {
    const code = err instanceof PairctlError ? err.code : 'INTERNAL'
    this.report({ type: 'failed', code, message: err instanceof Error ? err.message : String(err) })
    this.settle.reject(err)
  }

  private isOver(): boolean {
    const last = this.history.at(-1)?.type
    return last === 'paired' || last === 'failed'
  }
}
