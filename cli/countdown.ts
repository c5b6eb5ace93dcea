/** Time left as `M:SS`. */
export function formatRemaining(ms: number): string {
  const seconds = Math.max(0, Math.ceil(ms / 1000))
  return `${Math.floor(seconds / 60)}:${String(seconds % 60).padStart(2, '0')}`
}

/**
 * A one-line "code expires in M:SS" on a terminal's stderr, redrawn every second (`spec/cli.md` §3).
 * Other output clears it first (`clear()`), so it never ends up inside a result line.
 */
export class Countdown {
  private timer: NodeJS.Timeout | null = null
  private shown = false

  constructor(private readonly stream: NodeJS.WriteStream = process.stderr) {}

  /** Starts counting down to `expiresAt` (ISO 8601); nothing happens when the stream is no terminal. */
  start(expiresAt: string): void {
    const end = new Date(expiresAt).getTime()
    if (!this.stream.isTTY || Number.isNaN(end)) return
    const draw = () => {
      this.stream.write(`\r\x1b[Kcode expires in ${formatRemaining(end - Date.now())} (Ctrl-C cancels)`)
      this.shown = true
      if (Date.now() >= end) this.stop()
    }
    draw()
    this.timer = setInterval(draw, 1000)
    this.timer.unref()
  }

  /** Removes the line (until the next tick). */
  clear(): void {
    if (!this.shown) return
    this.stream.write('\r\x1b[K')
    this.shown = false
  }

  /** Stops and removes the line. */
  stop(): void {
    if (this.timer !== null) clearInterval(this.timer)
    this.timer = null
    this.clear()
  }
}
