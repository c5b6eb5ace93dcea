/**
 * The growth verdict of `scripts/soak.ts`: for each long-lived process, each figure's level after the
 * warm-up against its level at the end, each held to a stated bound ({@link GROWTH_BOUNDS}).
 */

/** One process's figures at one moment of the soak. */
export interface SoakSample {
  /** Seconds since the soak started. */
  t: number
  /** Operations done (all processes) when the sample was taken. */
  ops: number
  /** Bytes of JS heap in use after a full garbage collection. */
  heapUsed: number
  rss: number
  fds: number
  /** Active `Timeout` resources. */
  timers: number
  /** Every other active resource (sockets, pipes, file requests, immediates). */
  handles: number
}

export type Figure = Exclude<keyof SoakSample, 't' | 'ops'>

/** The most a figure may change between the warm-up level and the final level, in its own unit. */
export interface GrowthBound {
  figure: Figure
  /** Largest allowed increase. */
  maxGrowth: number
  /** Largest allowed decrease (fds and handles may also leak by closing what should stay open). */
  maxShrink: number
  unit: 'bytes' | 'count'
  why: string
}

const MiB = 1024 * 1024

/**
 * The bounds: heap growth < 10 MiB (a leak of a few KiB per operation over hundreds of operations shows
 * well above this; the finished-transfer history each node keeps is far below it), RSS growth < 48 MiB (the
 * allocator keeps freed pages, so RSS is looser), fds, timers and other handles within ±8 (a process at
 * rest between rounds holds the same sockets and timers whatever it has done before).
 */
export const GROWTH_BOUNDS: readonly GrowthBound[] = [
  { figure: 'heapUsed', maxGrowth: 10 * MiB, maxShrink: Infinity, unit: 'bytes', why: 'heap after GC' },
  { figure: 'rss', maxGrowth: 48 * MiB, maxShrink: Infinity, unit: 'bytes', why: 'resident set' },
  { figure: 'fds', maxGrowth: 8, maxShrink: 8, unit: 'count', why: '/proc/self/fd entries' },
  { figure: 'timers', maxGrowth: 8, maxShrink: 8, unit: 'count', why: 'active Timeout resources' },
  { figure: 'handles', maxGrowth: 8, maxShrink: 8, unit: 'count', why: 'other active resources' },
]

/** How many samples make a level: their median, so that one sample caught mid-GC or mid-retry does not decide. */
export const LEVEL_SAMPLES = 3

export interface FigureVerdict {
  figure: Figure
  /** Median of the first {@link LEVEL_SAMPLES} samples at or after the warm-up. */
  warm: number
  /** Median of the last {@link LEVEL_SAMPLES} samples. */
  final: number
  /** Least-squares slope over the samples after the warm-up, per minute (informative, not judged). */
  perMinute: number
  ok: boolean
}

export interface ProcessVerdict {
  process: string
  /** False when too few samples came after the warm-up to judge (that alone fails the soak). */
  judged: boolean
  figures: FigureVerdict[]
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b)
  const middle = Math.floor(sorted.length / 2)
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2
}

/** Least-squares slope of `y` over `x`; 0 for fewer than two distinct `x`. */
function slope(x: number[], y: number[]): number {
  const n = x.length
  const mx = x.reduce((a, b) => a + b, 0) / n
  const my = y.reduce((a, b) => a + b, 0) / n
  let num = 0
  let den = 0
  for (let i = 0; i < n; i++) {
    num += (x[i]! - mx) * (y[i]! - my)
    den += (x[i]! - mx) ** 2
  }
  return den === 0 ? 0 : num / den
}

/**
 * Judges one process's samples (in time order) against {@link GROWTH_BOUNDS}: the warm-up level is the
 * median of the first {@link LEVEL_SAMPLES} samples taken at or after `warmupS`, the final level the
 * median of the last ones; at least twice {@link LEVEL_SAMPLES} samples must follow the warm-up.
 */
export function judgeProcess(
  process: string,
  samples: readonly SoakSample[],
  warmupS: number,
): ProcessVerdict {
  const after = samples.filter((sample) => sample.t >= warmupS)
  if (after.length < 2 * LEVEL_SAMPLES) return { process, judged: false, figures: [] }
  const figures = GROWTH_BOUNDS.map((bound): FigureVerdict => {
    const values = after.map((sample) => sample[bound.figure])
    const warm = median(values.slice(0, LEVEL_SAMPLES))
    const final = median(values.slice(-LEVEL_SAMPLES))
    const perMinute = slope(
      after.map((sample) => sample.t / 60),
      values,
    )
    const change = final - warm
    return {
      figure: bound.figure,
      warm,
      final,
      perMinute,
      ok: change <= bound.maxGrowth && -change <= bound.maxShrink,
    }
  })
  return { process, judged: true, figures }
}
