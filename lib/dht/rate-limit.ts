import { BoundedMap } from './bounded-map.js'

interface Bucket {
  tokens: number
  at: number
}

/**
 * Per-source token buckets (`spec/dht.md` §8.2): each address group may send `rate` requests per second
 * with bursts of `burst`; requests over the limit are dropped silently (a reply would be the
 * amplification we are avoiding). The table of groups is bounded. A group is forgotten only once its
 * bucket has refilled (forgetting it then loses nothing: it would start full anyway); while every
 * tracked group is still in debt, groups not tracked share one overflow bucket of the same rate, so
 * rotating through more groups than the table holds buys no more than one group's share.
 */
export class RateLimiter {
  /** Allocated at the first limited request: a node that disables the limit holds no table. */
  #buckets: BoundedMap<string, Bucket> | null = null
  /** The bucket of every group the full table cannot take in yet. */
  #overflow: Bucket | null = null
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
    const tracked = this.#buckets.get(group)
    if (tracked === undefined && this.#buckets.size >= this.#entries) {
      const [oldest, bucket] = this.#buckets.entries().next().value as [string, Bucket]
      if (this.#refilled(bucket, now) < this.#burst) {
        this.#overflow ??= { tokens: this.#burst, at: now }
        return this.#take(this.#overflow, now)
      }
      this.#buckets.delete(oldest)
    }
    const bucket = tracked ?? { tokens: this.#burst, at: now }
    const allowed = this.#take(bucket, now)
    this.#buckets.set(group, bucket)
    return allowed
  }

  #refilled(bucket: Bucket, now: number): number {
    return Math.min(this.#burst, bucket.tokens + ((now - bucket.at) * this.#rate) / 1000)
  }

  /** Refills `bucket` to `now` and takes a token from it if it has one. */
  #take(bucket: Bucket, now: number): boolean {
    const tokens = this.#refilled(bucket, now)
    const allowed = tokens >= 1
    bucket.tokens = allowed ? tokens - 1 : tokens
    bucket.at = now
    return allowed
  }
}
