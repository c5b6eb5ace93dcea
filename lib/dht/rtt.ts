import { BoundedMap } from './bounded-map.js'
import { INITIAL_RTO_MS } from './constants.js'

interface Estimate {
  srtt: number
  rttvar: number
}

/**
 * Round-trip estimates per node and for the whole network, as TCP keeps them (RFC 6298 §2): a node
 * never measured borrows the network-wide estimate, so the first request to it is neither blind
 * (1 s) nor over-eager. `rto = clamp(srtt + 4·rttvar)` (`spec/dht.md` §6.2).
 */
export class RttEstimator {
  readonly #nodes: BoundedMap<string, Estimate>
  #global: Estimate | null = null
  readonly #minRto: number
  readonly #maxRto: number

  constructor(entries: number, minRtoMs: number, maxRtoMs: number) {
    this.#nodes = new BoundedMap(entries)
    this.#minRto = minRtoMs
    this.#maxRto = maxRtoMs
  }

  /** Feeds one measured round trip to `node` (never a retransmitted request: Karn's rule). */
  sample(node: string, rttMs: number): void {
    this.#nodes.set(node, update(this.#nodes.get(node), rttMs))
    this.#global = update(this.#global ?? undefined, rttMs)
  }

  /** The retransmission timeout for a request to `node`. */
  rto(node: string): number {
    const estimate = this.#nodes.get(node) ?? this.#global
    const raw = estimate === null ? INITIAL_RTO_MS : estimate.srtt + 4 * estimate.rttvar
    return Math.min(this.#maxRto, Math.max(this.#minRto, raw))
  }

  /** A request to `node` timed out: forget its estimate so the next one starts from the network's. */
  backoff(node: string): void {
    this.#nodes.delete(node)
  }
}

/** RFC 6298 §2.2-2.3 with alpha = 1/8, beta = 1/4. */
function update(previous: Estimate | undefined, rtt: number): Estimate {
  if (previous === undefined) return { srtt: rtt, rttvar: rtt / 2 }
  const rttvar = 0.75 * previous.rttvar + 0.25 * Math.abs(previous.srtt - rtt)
  return { srtt: 0.875 * previous.srtt + 0.125 * rtt, rttvar }
}
