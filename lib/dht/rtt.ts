import { INITIAL_RTO_MS } from './constants.js'

/** A round-trip estimate in whole microseconds (integers stay unboxed in V8: no heap per estimate). */
export interface RttFields {
  /** Smoothed RTT, µs; 0 = never measured. */
  srttUs: number
  rttvarUs: number
}

/**
 * Round-trip estimates as TCP keeps them (RFC 6298 §2), `spec/dht.md` §6.2: one per routing-table
 * entry (stored on the entry, so the table's bound is theirs) and one for the whole network. A node
 * never measured borrows the network-wide estimate, so the first request to it is neither blind (1 s)
 * nor over-eager. `rto = clamp(srtt + 4·rttvar)`.
 */
export class RttEstimator {
  readonly #global: RttFields = { srttUs: 0, rttvarUs: 0 }
  readonly #minRto: number
  readonly #maxRto: number

  constructor(minRtoMs: number, maxRtoMs: number) {
    this.#minRto = minRtoMs
    this.#maxRto = maxRtoMs
  }

  /** Feeds one measured round trip to `node` (a table entry, or null) and to the network estimate. */
  sample(node: RttFields | null, rttMs: number): void {
    const us = Math.max(1, Math.round(rttMs * 1000))
    if (node !== null) update(node, us)
    update(this.#global, us)
  }

  /** The retransmission timeout for a request to `node` (null: not in the table). */
  rto(node: RttFields | null): number {
    const estimate = node !== null && node.srttUs > 0 ? node : this.#global
    const raw = estimate.srttUs === 0 ? INITIAL_RTO_MS : (estimate.srttUs + 4 * estimate.rttvarUs) / 1000
    return Math.min(this.#maxRto, Math.max(this.#minRto, raw))
  }

  /** A request to `node` timed out: forget its estimate so the next one starts from the network's. */
  backoff(node: RttFields | null): void {
    if (node === null) return
    node.srttUs = 0
    node.rttvarUs = 0
  }
}

/** RFC 6298 §2.2-2.3 with alpha = 1/8, beta = 1/4, in integer microseconds. */
function update(estimate: RttFields, us: number): void {
  if (estimate.srttUs === 0) {
    estimate.srttUs = us
    estimate.rttvarUs = Math.round(us / 2)
    return
  }
  estimate.rttvarUs = Math.round(0.75 * estimate.rttvarUs + 0.25 * Math.abs(estimate.srttUs - us))
  estimate.srttUs = Math.round(0.875 * estimate.srttUs + 0.125 * us)
}
