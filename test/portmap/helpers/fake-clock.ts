/** A virtual clock for PortMapper renewals: timers run only when the test advances time. */
import type { Clock } from '../../../lib/portmap/index.js'

interface Timer {
  at: number
  fn: () => void
}

export class FakeClock implements Clock {
  private t = 1_000_000
  private readonly timers = new Set<Timer>()

  now(): number {
    return this.t
  }

  setTimeout(fn: () => void, ms: number): unknown {
    const timer = { at: this.t + ms, fn }
    this.timers.add(timer)
    return timer
  }

  clearTimeout(handle: unknown): void {
    this.timers.delete(handle as Timer)
  }

  /** Moves time forward by `ms`, firing due timers in order. */
  advance(ms: number): void {
    this.t += ms
    for (;;) {
      const due = [...this.timers].filter((x) => x.at <= this.t).sort((a, b) => a.at - b.at)[0]
      if (!due) return
      this.timers.delete(due)
      due.fn()
    }
  }

  /** Moves time to the earliest pending timer and fires it; false when none is pending. */
  advanceToNext(): boolean {
    const next = Math.min(...[...this.timers].map((x) => x.at))
    if (!Number.isFinite(next)) return false
    this.advance(next - this.t)
    return true
  }

  /** Timers still pending. */
  pending(): number {
    return this.timers.size
  }
}

/** Resolves once `condition()` holds (polled every 5 ms); rejects after `limitMs` of real time. */
export async function until(condition: () => boolean, limitMs = 10_000): Promise<void> {
  const deadline = Date.now() + limitMs
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not reached in time')
    await new Promise((resolve) => setTimeout(resolve, 5))
  }
}
