import { z } from 'zod'
import { type Address, addressKey, type Grouping, parseAddress } from './address.js'
import { type ByteText, bytesOf, groupText, hostOf, inGroup, portOf } from './endpoint.js'
import { DhtError } from './errors.js'
import type { RttFields } from './rtt.js'

/** A DHT server node: its address-bound id and its endpoint. */
export interface Contact {
  id: Uint8Array
  host: string
  port: number
}

/**
 * What the table keeps per node (`spec/dht.md` §8.4): its id and compact endpoint as one-byte strings
 * ({@link ByteText}) and its own state, 6 fields of one hidden class (about 110 heap bytes with both
 * strings; a Uint8Array alone costs about 200). Byte forms and host text are computed on demand: they
 * are needed per request sent, not per entry kept.
 */
export class TableEntry implements Contact, RttFields {
  fails = 0
  /**
   * Last time the node answered us or sent us a request, in whole seconds since its table's origin
   * (see {@link RoutingTable.seenAt}): a small integer stays unboxed in V8, while an epoch time in ms, or
   * any difference of two, is a 16-byte heap number per entry.
   */
  seen = 0
  srttUs = 0
  rttvarUs = 0
  /** The node id (§4.1). */
  readonly idText: ByteText
  /** The compact endpoint (§3.1): also the key of lookups', probes' and tokens' maps. */
  readonly key: ByteText

  constructor(key: ByteText, idText: ByteText) {
    this.key = key
    this.idText = idText
  }

  get id(): Uint8Array {
    return bytesOf(this.idText)
  }
  get wire(): Uint8Array {
    return bytesOf(this.key)
  }
  get host(): string {
    return hostOf(this.key)
  }
  get port(): number {
    return portOf(this.key)
  }
}

/** The outcome of {@link RoutingTable.add}. */
export type AddResult =
  | { kind: 'added' }
  | { kind: 'rejected' }
  /** The bucket is full and cannot split: ping `stale`, evict it if silent (ping-before-evict). */
  | { kind: 'full'; stale: TableEntry }

/** Id length in bits: the deepest a bucket can split. */
const ID_BITS = 256

/**
 * The Kademlia routing table (`spec/dht.md` §6.1): buckets by the number of leading bits a node's id
 * shares with ours, as the `k-bucket` package splits them (only the bucket holding our own id splits),
 * with an explicit count on every `closest`, at most `nodesPerGroup` nodes of one /24 or /64 per
 * bucket, and a ping-before-evict result instead of an event. Bucket `i` below the last holds the
 * nodes sharing exactly `i` bits; the last holds every node sharing at least as many. Each bucket
 * lists its nodes least recently seen first.
 */
export class RoutingTable {
  readonly #local: ByteText
  readonly #k: number
  readonly #nodesPerGroup: number
  readonly #grouping: Grouping
  /** Time origin of the entries' `seen` (ms). */
  readonly #origin: number
  readonly #buckets: TableEntry[][] = [[]]
  #size = 0

  constructor(localId: ByteText, k: number, nodesPerGroup: number, grouping: Grouping, now: number) {
    this.#local = localId
    this.#origin = now
    this.#k = k
    this.#nodesPerGroup = nodesPerGroup
    this.#grouping = grouping
  }

  get size(): number {
    return this.#size
  }

  /** Adds or refreshes (moves to most-recently-seen) `entry`, seen alive at `now`. */
  add(entry: TableEntry, now: number): AddResult {
    let bucket = this.#bucketOf(entry.idText)
    const index = bucket.findIndex((known) => known.idText === entry.idText)
    if (index < 0 && this.#groupCount(bucket, entry) >= this.#nodesPerGroup) return { kind: 'rejected' }
    const current = index < 0 ? entry : bucket.splice(index, 1)[0]!
    current.fails = 0
    current.seen = ((now - this.#origin) / 1000) | 0
    if (index >= 0) {
      bucket.push(current)
      return { kind: 'added' }
    }
    while (bucket.length >= this.#k && this.#canSplit(bucket)) bucket = this.#split(entry.idText)
    if (bucket.length >= this.#k) return { kind: 'full', stale: bucket[0]! }
    bucket.push(current)
    this.#size++
    return { kind: 'added' }
  }

  /**
   * The `n` nodes closest to `target` (an id as text); `n` is required on purpose (the `k-bucket`
   * default of Infinity returned the whole table in bittorrent-dht replies). Buckets are taken nearest
   * first until they held `n` nodes, each inserted in order into the `n` best so far.
   */
  closest(target: ByteText, n: number): TableEntry[] {
    const out: TableEntry[] = []
    const distances: number[] = []
    for (const index of this.#nearestFirst(target)) {
      if (out.length >= n) break
      for (const entry of this.#buckets[index]!)
        insertByDistance(out, distances, entry, prefixDistance(entry.idText, target), n)
    }
    return out
  }

  /**
   * Bucket indexes in order of distance to `target`. With `d` the bits `target` shares with us: bucket
   * `d` first (its nodes share d + 1 bits with the target), then the deeper buckets, then `d - 1` down to
   * 0. Among the deeper ones, bucket `j` comes before all deeper than it when the target's bit `j` is not
   * ours (its nodes then match the target there), after them otherwise.
   */
  #nearestFirst(target: ByteText): number[] {
    const last = this.#buckets.length - 1
    const shared = Math.min(sharedBits(this.#local, target), last)
    const front: number[] = [shared]
    const back: number[] = []
    for (let j = shared + 1; j < last; j++) {
      if (bitOf(target, j) !== bitOf(this.#local, j)) front.push(j)
      else back.unshift(j)
    }
    if (shared < last) front.push(last)
    for (let j = shared - 1; j >= 0; j--) back.push(j)
    return [...front, ...back]
  }

  /** A table of the same entries under another local id (a client that became a server, §4.2). */
  rebuilt(localId: ByteText): RoutingTable {
    const table = new RoutingTable(localId, this.#k, this.#nodesPerGroup, this.#grouping, this.#origin)
    for (const entry of this.all()) table.add(entry, this.seenAt(entry))
    return table
  }

  /** When `entry` (one of ours) last answered us or sent us a request (ms, to the second). */
  seenAt(entry: TableEntry): number {
    return this.#origin + entry.seen * 1000
  }

  get(idText: ByteText): TableEntry | null {
    return this.#bucketOf(idText).find((entry) => entry.idText === idText) ?? null
  }

  /** The entry of a compact endpoint, or null: a scan, cheaper than hashing its id (§4.1). */
  find(key: ByteText): TableEntry | null {
    for (const bucket of this.#buckets) for (const entry of bucket) if (entry.key === key) return entry
    return null
  }

  remove(idText: ByteText): void {
    const bucket = this.#bucketOf(idText)
    const index = bucket.findIndex((entry) => entry.idText === idText)
    if (index < 0) return
    bucket.splice(index, 1)
    this.#size--
  }

  /**
   * Ids to look up to fill the farthest under-full buckets (fewer than `below` nodes, default k/2)
   * among the first `depth` bucket levels: our id with bit i flipped and random bits after it
   * (Kademlia §2.3 refresh).
   */
  refreshTargets(depth: number, max: number, random: Uint8Array, below = this.#k / 2): Uint8Array[] {
    const counts = new Array<number>(depth).fill(0)
    for (const entry of this.all()) {
      const bit = sharedBits(this.#local, entry.idText)
      if (bit < depth) counts[bit]!++
    }
    const local = bytesOf(this.#local)
    const out: Uint8Array[] = []
    for (let bit = 0; bit < depth && out.length < max; bit++) {
      if (counts[bit]! < below) out.push(flipBit(local, bit, random))
    }
    return out
  }

  all(): TableEntry[] {
    return this.#buckets.flat()
  }

  /** True when `entry` is new and would be added without evicting anyone (no probe is worth it otherwise). */
  hasRoom(entry: TableEntry): boolean {
    const bucket = this.#bucketOf(entry.idText)
    if (bucket.some((known) => known.idText === entry.idText)) return false
    if (this.#groupCount(bucket, entry) >= this.#nodesPerGroup) return false
    return bucket.length < this.#k || this.#canSplit(bucket)
  }

  /** True when the bucket `idText` would go to holds fewer than `below` nodes. */
  isSparse(idText: ByteText, below: number): boolean {
    return this.#bucketOf(idText).length < below
  }

  /** Nodes of `entry`'s address group already in `bucket`. */
  #groupCount(bucket: TableEntry[], entry: TableEntry): number {
    const group = groupText(entry.key, this.#grouping)
    let count = 0
    for (const known of bucket) if (inGroup(known.key, group)) count++
    return count
  }

  #bucketOf(idText: ByteText): TableEntry[] {
    return this.#buckets[Math.min(sharedBits(this.#local, idText), this.#buckets.length - 1)]!
  }

  /** Only the last bucket (the one holding our own id) splits, down to one bucket per id bit. */
  #canSplit(bucket: TableEntry[]): boolean {
    return bucket === this.#buckets[this.#buckets.length - 1] && this.#buckets.length < ID_BITS
  }

  /** Splits the last bucket in two by one more shared bit; returns the bucket `idText` now goes to. */
  #split(idText: ByteText): TableEntry[] {
    const level = this.#buckets.length - 1
    const old = this.#buckets[level]!
    this.#buckets[level] = old.filter((entry) => sharedBits(this.#local, entry.idText) === level)
    this.#buckets.push(old.filter((entry) => sharedBits(this.#local, entry.idText) > level))
    return this.#bucketOf(idText)
  }
}

/** Leading bits `a` and `b` (ids as text) have in common: the bucket level (Kademlia §2.2). */
function sharedBits(a: ByteText, b: ByteText): number {
  for (let i = 0; i < a.length; i++) {
    const x = a.charCodeAt(i) ^ b.charCodeAt(i)
    if (x !== 0) return i * 8 + Math.clz32(x) - 24
  }
  return a.length * 8
}

/** Bit `bit` (0 = most significant) of an id as text. */
function bitOf(id: ByteText, bit: number): number {
  return (id.charCodeAt(bit >> 3) >> (7 - (bit & 7))) & 1
}

/** Inserts `entry` at `distance` into the sorted `out` (and its `distances`), keeping at most `n`. */
function insertByDistance(
  out: TableEntry[],
  distances: number[],
  entry: TableEntry,
  distance: number,
  n: number,
): void {
  if (out.length === n && distances[n - 1]! <= distance) return
  let at = out.length === n ? n - 1 : out.length
  for (; at > 0 && distances[at - 1]! > distance; at--) {
    out[at] = out[at - 1]!
    distances[at] = distances[at - 1]!
  }
  out[at] = entry
  distances[at] = distance
}

/**
 * XOR distance of the first 6 bytes of two ids as a number: exact in a double, and ties beyond 48
 * bits need ~2^48 nodes to matter (lookups order candidates by the full distance anyway).
 */
function prefixDistance(a: ByteText, b: ByteText): number {
  let distance = 0
  for (let i = 0; i < 6; i++) distance = distance * 256 + (a.charCodeAt(i) ^ b.charCodeAt(i))
  return distance
}

/** `id` with bit `bit` flipped, its earlier bits kept and every later bit taken from `random`. */
function flipBit(id: Uint8Array, bit: number, random: Uint8Array): Uint8Array {
  const out = Uint8Array.from(random)
  const byte = bit >> 3
  const flip = 0x80 >> (bit & 7)
  const keep = (0xff00 >> (bit & 7)) & 0xff
  out.set(id.subarray(0, byte))
  out[byte] = (id[byte]! & keep) | (~id[byte]! & flip) | (random[byte]! & ~(keep | flip) & 0xff)
  return out
}

/** A routing table as the node layer saves it: endpoints only, since ids derive from them (§6.4). */
export interface SavedTable {
  version: 1
  nodes: string[]
}

const SavedTableSchema = z.object({ version: z.literal(1), nodes: z.array(z.string().max(64)).max(4096) })

/** Snapshot of `entries` for persistence. */
export function saveTable(entries: Contact[]): SavedTable {
  return { version: 1, nodes: entries.map((entry) => addressKey(entry)) }
}

/** Validates a loaded table (zod) and returns its endpoints; throws `DHT_BAD_TABLE`. */
export function loadTable(saved: unknown): Address[] {
  const parsed = SavedTableSchema.safeParse(saved)
  if (!parsed.success) throw DhtError.badTable(parsed.error)
  const addresses = parsed.data.nodes.map(parseAddress)
  if (addresses.some((address) => address === null)) throw DhtError.badTable(new Error('bad endpoint'))
  return addresses as Address[]
}
