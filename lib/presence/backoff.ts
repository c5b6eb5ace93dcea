import { BACKOFF_BASE_MS, BACKOFF_MAX_MS } from './constants.js'

/**
 * Reconnect delays (`spec/presence.md` §6): exponential from {@link BACKOFF_BASE_MS} to
 * {@link BACKOFF_MAX_MS}, each drawn uniformly from [d/2, d] so that peers that lost each other at the
 * same moment do not retry in lockstep. Pure: the caller passes the random number.
 */
export class Backoff {
  #failures = 0

  constructor(
    readonly baseMs = BACKOFF_BASE_MS,
    readonly maxMs = BACKOFF_MAX_MS,
  ) {}

  /** Failures since the last {@link reset}. */
  get failures(): number {
    return this.#failures
  }

  /** The delay before the next attempt after one more failure; `random` in [0, 1). */
  next(random: number): number {
    const ceiling = Math.min(this.maxMs, this.baseMs * 2 ** Math.min(this.#failures, 30))
    this.#failures++
    return Math.round(ceiling / 2 + (ceiling / 2) * random)
  }

  /** A success: the next failure starts from the base delay again. */
  reset(): void {
    this.#failures = 0
  }
}
