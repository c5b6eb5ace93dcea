/**
 * Sans-I/O lease bookkeeping (spec/portmap.md §6): when each mapping must be renewed and when it is
 * lost. Renewal is due at half the granted lifetime (RFC 6886 §3.3 and RFC 6887 §11.2.1 both advise
 * renewing well before expiry); after a failed renewal we retry at half the remaining time, and give
 * up once less than `MIN_RETRY_MS` remains.
 */

const MIN_RETRY_MS = 1000

interface Lease {
  renewAt: number
  expiresAt: number
}

/**
 * Leases keyed by a caller-chosen key. Lifetime 0 means permanent: never expires, renewed only as a
 * check. `checkMs` bounds the time between two renewals: a renewal doubles as the check that the
 * gateway still holds the mapping (a rebooted or reset router forgets it long before half a 2-hour
 * lease), spec/portmap.md §6.
 */
export class LeaseTable<K> {
  private readonly leases = new Map<K, Lease>()

  constructor(private readonly checkMs = Number.POSITIVE_INFINITY) {}

  /** Records a grant (new or renewed) made at `now` for `lifetimeS` seconds. */
  grant(key: K, now: number, lifetimeS: number): number {
    const expiresAt = lifetimeS === 0 ? Number.POSITIVE_INFINITY : now + lifetimeS * 1000
    this.leases.set(key, { renewAt: now + Math.min((expiresAt - now) / 2, this.checkMs), expiresAt })
    return expiresAt
  }

  /** Forgets a lease. */
  remove(key: K): void {
    this.leases.delete(key)
  }

  /** Earliest renewal time, or `null` when nothing needs renewing. */
  pollTimeout(): number | null {
    let next = Number.POSITIVE_INFINITY
    for (const lease of this.leases.values()) next = Math.min(next, lease.renewAt)
    return Number.isFinite(next) ? next : null
  }

  /** Keys due for renewal at `now`; each is parked until {@link grant} or {@link renewalFailed}. */
  handleTimeout(now: number): K[] {
    const due = [...this.leases].filter(([, lease]) => lease.renewAt <= now).map(([key]) => key)
    for (const key of due) this.leases.get(key)!.renewAt = Number.POSITIVE_INFINITY
    return due
  }

  /** Makes every lease not already being renewed due at `now` (the gateway lost its state). */
  expediteAll(now: number): void {
    for (const lease of this.leases.values()) {
      if (Number.isFinite(lease.renewAt)) lease.renewAt = Math.min(lease.renewAt, now)
    }
  }

  /** After a failed renewal: `'retry'` (scheduled) or `'lost'` (removed). */
  renewalFailed(key: K, now: number): 'retry' | 'lost' {
    const lease = this.leases.get(key)
    const remaining = lease ? lease.expiresAt - now : 0
    if (!lease || remaining < 2 * MIN_RETRY_MS) {
      this.leases.delete(key)
      return 'lost'
    }
    lease.renewAt = now + remaining / 2
    return 'retry'
  }
}
