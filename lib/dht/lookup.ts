import type { Grouping } from './address.js'
import { groupText } from './endpoint.js'
import type { TableEntry } from './routing.js'

const State = { NEW: 0, IN_FLIGHT: 1, STALLED: 2, REPLIED: 3, FAILED: 4, CLIENT: 5 } as const
type CandidateState = (typeof State)[keyof typeof State]

interface Candidate {
  entry: TableEntry
  distance: Uint8Array
  state: CandidateState
  /** Distance of the farthest node of its reply when that was a full page: it may know more beyond. */
  horizon: Uint8Array | null
}

/** Parameters of one lookup (`spec/dht.md` §6.3). */
export interface LookupOptions {
  k: number
  alpha: number
  shortlist: number
  nodesPerGroup: number
  grouping: Grouping
}

/**
 * The iterative Kademlia lookup of `spec/dht.md` §6.3 as a pure state machine: a distance-sorted
 * shortlist; at most `alpha` requests in flight, where a request past its RTO is *stalled* and no
 * longer counts (the lookup widens instead of waiting); done when the `k` closest candidates that are
 * not failed have all replied as servers. Nodes that never replied are never part of the result.
 */
export class Lookup {
  readonly target: Uint8Array
  readonly #options: LookupOptions
  readonly #candidates: Candidate[] = []
  readonly #byKey = new Map<string, Candidate>()
  readonly #groups = new Map<string, number>()
  #inFlight = 0
  #replied = 0

  constructor(target: Uint8Array, options: LookupOptions) {
    this.target = target
    this.#options = options
  }

  /** Offers a node learned from the table, a bootstrap list or a reply. */
  add(entry: TableEntry): void {
    if (this.#byKey.has(entry.key)) return
    const group = groupText(entry.key, this.#options.grouping)
    if ((this.#groups.get(group) ?? 0) >= this.#options.nodesPerGroup) return
    const distance = distanceTo(entry, this.target)
    const candidate: Candidate = { entry, distance, state: State.NEW, horizon: null }
    this.#candidates.splice(this.#insertionIndex(candidate.distance), 0, candidate)
    this.#byKey.set(entry.key, candidate)
    this.#groups.set(group, (this.#groups.get(group) ?? 0) + 1)
    this.#trim()
  }

  /**
   * Candidates to query now; they are marked in flight. At most `alpha` in flight while the lookup
   * descends; once `alpha` servers replied and the closest candidate is one of them (the lookup reached
   * the target's neighbourhood), every new candidate of the window at once (§6.3): the same requests
   * in fewer rounds.
   */
  next(): TableEntry[] {
    const out: TableEntry[] = []
    const window = this.#window()
    const arrived = this.#replied >= this.#options.alpha && window[0]?.state === State.REPLIED
    const limit = arrived ? this.#options.k : this.#options.alpha
    for (const candidate of window) {
      if (this.#inFlight >= limit) break
      if (candidate.state !== State.NEW) continue
      candidate.state = State.IN_FLIGHT
      this.#inFlight++
      out.push(candidate.entry)
    }
    return out
  }

  /** The candidate entry of endpoint `key`, if the shortlist holds it. */
  entry(key: string): TableEntry | undefined {
    return this.#byKey.get(key)?.entry
  }

  /** `key` replied; `server` when its id verified, `closer` are the nodes it returned. */
  replied(key: string, server: boolean, closer: TableEntry[]): void {
    const candidate = this.#byKey.get(key)
    if (candidate !== undefined && candidate.state < State.REPLIED) {
      this.#replied += server ? 1 : 0
      const last = closer[closer.length - 1]
      if (last !== undefined && closer.length >= this.#options.k - 1)
        candidate.horizon = distanceTo(last, this.target)
    }
    this.#settle(key, server ? State.REPLIED : State.CLIENT)
    for (const entry of closer) this.add(entry)
  }

  /** `key` passed its RTO: stop counting it against alpha, keep accepting its reply. */
  stalled(key: string): void {
    const candidate = this.#byKey.get(key)
    if (candidate?.state !== State.IN_FLIGHT) return
    candidate.state = State.STALLED
    this.#inFlight--
  }

  /** `key` timed out for good. */
  failed(key: string): void {
    if (this.#byKey.get(key)?.state !== State.FAILED) this.failures++
    this.#settle(key, State.FAILED)
  }

  /** Candidates that timed out: when the result is short of k, dead nodes crowded out live ones. */
  failures = 0

  /** True once the `k` closest live candidates have all replied (or nothing is left to ask). */
  done(): boolean {
    return this.#window().every((candidate) => candidate.state === State.REPLIED)
  }

  /** The `k` closest nodes that replied as servers, closest first. */
  closest(): TableEntry[] {
    return this.#window()
      .filter((candidate) => candidate.state === State.REPLIED)
      .map((candidate) => candidate.entry)
  }

  /**
   * Repliers of the result whose full page ended inside the result's range, closest first: their next
   * page may hold live nodes of the result that dead entries pushed off every first page (§6.3).
   */
  truncated(): TableEntry[] {
    const window = this.#window()
    const edge = window.length < this.#options.k ? null : window[window.length - 1]!.distance
    return window
      .filter(
        (c) =>
          c.state === State.REPLIED && c.horizon !== null && (edge === null || compare(c.horizon, edge) < 0),
      )
      .map((c) => c.entry)
  }

  #settle(key: string, state: CandidateState): void {
    const candidate = this.#byKey.get(key)
    if (candidate === undefined || candidate.state >= State.REPLIED) return
    if (candidate.state === State.IN_FLIGHT) this.#inFlight--
    candidate.state = state
  }

  /** The first `k` candidates that are neither failed nor clients. */
  #window(): Candidate[] {
    const out: Candidate[] = []
    for (const candidate of this.#candidates) {
      if (out.length >= this.#options.k) break
      if (candidate.state !== State.FAILED && candidate.state !== State.CLIENT) out.push(candidate)
    }
    return out
  }

  /** Keeps the shortlist bounded by dropping the farthest never-asked candidates. */
  #trim(): void {
    while (this.#candidates.length > this.#options.shortlist) {
      const last = this.#candidates[this.#candidates.length - 1]!
      if (last.state !== State.NEW) return
      this.#candidates.pop()
      this.#byKey.delete(last.entry.key)
      const group = groupText(last.entry.key, this.#options.grouping)
      this.#groups.set(group, (this.#groups.get(group) ?? 1) - 1)
    }
  }

  #insertionIndex(distance: Uint8Array): number {
    let low = 0
    let high = this.#candidates.length
    while (low < high) {
      const mid = (low + high) >> 1
      if (compare(this.#candidates[mid]!.distance, distance) < 0) low = mid + 1
      else high = mid
    }
    return low
  }
}

/** XOR distance of two ids (Kademlia §2.1). */
export function xor(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length)
  for (let i = 0; i < a.length; i++) out[i] = a[i]! ^ b[i]!
  return out
}

/** XOR distance of a table entry's id (kept as text) to `target`. */
function distanceTo(entry: TableEntry, target: Uint8Array): Uint8Array {
  const out = new Uint8Array(target.length)
  for (let i = 0; i < target.length; i++) out[i] = entry.idText.charCodeAt(i) ^ target[i]!
  return out
}

/** Lexicographic byte comparison: orders XOR distances. */
export function compare(a: Uint8Array, b: Uint8Array): number {
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return a[i]! - b[i]!
  return 0
}
