import { BoundedMap } from './bounded-map.js'

interface Bucket {
  tokens: number
  at: number
}

/**
 * Per-source token buckets (`spec/dht.md` §8.2): each address group may send `rate` requests per second
 * with bursts of `burst`; requests over the limit are dropped silently (a reply would be the
 * amplification we are avoiding). The table of groups is bounded; a forgotten group starts full.
 */
export class RateLimiter {
  /** Allocated at the first limited request: a node that disables the limit holds no table. */
  #buckets: BoundedMap<string, Bucket> | null = null
  readonly #entries: number
  readonly #rate: number
  readonly #burst: number

  constructor(rate: number, burst: number, entries: number) {
    this.#entries = entries
    this.#rate = rate
    this.#burst = burst
  }

  /** Takes one token for `group` at `now`; false when the group is over its rate. */
  allow(group: string, now: number): boolean {
    if (this.#rate === Number.POSITIVE_INFINITY) return true
    this.#buckets ??= new BoundedMap(this.#entries)
    const bucket = this.#buckets.get(group) ?? { tokens: this.#burst, at: now }
    const tokens = Math.min(this.#burst, bucket.tokens + ((now - bucket.at) * this.#rate) / 1000)
    const allowed = tokens >= 1
    this.#buckets.set(group, { tokens: allowed ? tokens - 1 : tokens, at: now })
    return allowed
  }
}
