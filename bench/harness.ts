/**
 * Shared pieces of the benchmarks. Each benchmark lives in `bench/<name>/index.ts` and default-exports
 * a {@link Benchmark}; `bench/run.ts` runs them (all, or `--only NAME`), then writes `bench/RESULTS.md`
 * and `bench/results.json`. Anchors run in the same process run as pairctl, so ratios are comparable
 * on a noisy machine while absolute numbers are not.
 */
import { type ChildProcess, fork } from 'node:child_process'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')

/** One measured figure: pairctl's median and each anchor's median, in the same unit. */
export interface Metric {
  /** e.g. `throughput 1 GiB one way`. */
  name: string
  /** e.g. `MiB/s`, `ms`, `datagrams`, `bytes`. */
  unit: string
  /** Which direction is better, so the ratio can be read as "pairctl is N× better". */
  better: 'higher' | 'lower'
  /** pairctl's median. */
  pairctl: number
  /** Each anchor's median, keyed by the anchor's name (`node:tls chacha20`, `dht-rpc`, …). */
  anchors: Record<string, number>
  /** Anything a reader needs to interpret the figure (sizes, repetitions). */
  note?: string
}

/** Options every benchmark receives. `quick` is CI's tiny size: it checks the benchmark still runs. */
export interface BenchOptions {
  quick: boolean
}

export interface Benchmark {
  name: string
  run(options: BenchOptions): Promise<Metric[]>
}

/** Median of a non-empty list. */
export function median(values: number[]): number {
  return quantile(values, 0.5)
}

/** The q-quantile (0..1) of a non-empty list, by linear interpolation. */
export function quantile(values: number[], q: number): number {
  if (values.length === 0) return Number.NaN
  const sorted = [...values].sort((a, b) => a - b)
  const position = (sorted.length - 1) * q
  const low = Math.floor(position)
  const high = Math.ceil(position)
  return sorted[low]! + (sorted[high]! - sorted[low]!) * (position - low)
}

/** Milliseconds since an arbitrary origin, high resolution. */
export function nowMs(): number {
  return Number(process.hrtime.bigint()) / 1e6
}

/** Runs `fn` `repetitions` times and returns each duration in milliseconds. */
export async function timeRepeated(repetitions: number, fn: () => Promise<void>): Promise<number[]> {
  const durations: number[] = []
  for (let i = 0; i < repetitions; i++) {
    const start = nowMs()
    await fn()
    durations.push(nowMs() - start)
  }
  return durations
}

/** pairctl's advantage over an anchor: > 1 means pairctl is better, whichever direction is better. */
export function ratio(metric: Metric, anchor: string): number {
  const other = metric.anchors[anchor]
  if (other === undefined || other === 0 || metric.pairctl === 0) return Number.NaN
  return metric.better === 'higher' ? metric.pairctl / other : other / metric.pairctl
}

/** A benchmark process running `script` (an absolute path) through tsx, from the repository root. */
export function forkWorker(script: string, nodeFlags: string[] = [], args: string[] = []): ChildProcess {
  return fork(script, args, { cwd: root, execArgv: ['--import', 'tsx', ...nodeFlags] })
}

/** The process's next IPC message; rejects if it exits first. */
export function nextMessage<T>(child: ChildProcess): Promise<T> {
  return new Promise((resolve, reject) => {
    const onExit = (code: number | null) => reject(new Error(`bench process exited with ${code}`))
    child.once('exit', onExit)
    child.once('message', (message) => {
      child.off('exit', onExit)
      resolve(message as T)
    })
  })
}
