import KBucket from 'k-bucket'
import { z } from 'zod'
import {
  type Address,
  addressKey,
  decodeAddress,
  encodeAddress,
  type Grouping,
  groupOf,
  nodeIdOf,
  parseAddress,
} from './address.js'
import { BoundedMap } from './bounded-map.js'
import { DhtError } from './errors.js'
import type { RttFields } from './rtt.js'

/** A DHT server node: its address-bound id and its endpoint. */
export interface Contact {
  id: Uint8Array
  host: string
  port: number
}

/** An endpoint decoded once: its id, compact form, strings and group, shared by all its entries. */
interface Endpoint {
  readonly id: Uint8Array
  /** A copy: a view would keep the whole received datagram alive as long as the table entry. */
  readonly wire: Uint8Array
  readonly host: string
  readonly port: number
  readonly key: string
  readonly group: string
}

/**
 * What the table keeps per node: the shared {@link Endpoint} plus its own state. A class, so every
 * entry has one hidden class with fixed fields (object-spread copies went to dictionary mode in V8,
 * 4x the memory); 5 fields, since all that is derived from the endpoint is shared.
 */
export class TableEntry implements Contact, RttFields {
  fails = 0
  /** Last time the node answered us or sent us a request (ms). */
  seenAt = 0
  srttUs = 0
  rttvarUs = 0
  readonly #endpoint: Endpoint

  constructor(endpoint: Endpoint) {
    this.#endpoint = endpoint
  }

  /** k-bucket's arbiter field: always 0, so a re-added entry replaces the incumbent (a getter: no field). */
  get vectorClock(): number {
    return 0
  }
  get id(): Uint8Array {
    return this.#endpoint.id
  }
  get wire(): Uint8Array {
    return this.#endpoint.wire
  }
  get host(): string {
    return this.#endpoint.host
  }
  get port(): number {
    return this.#endpoint.port
  }
  /** `host:port`: the key of lookups' and probes' maps. */
  get key(): string {
    return this.#endpoint.key
  }
  /** Address group for the per-group limits (§8.3). */
  get group(): string {
    return this.#endpoint.group
  }
}

/** The outcome of {@link RoutingTable.add}. */
export type AddResult =
  | { kind: 'added' }
  | { kind: 'rejected' }
  /** The bucket is full and cannot split: ping `stale`, evict it if silent (ping-before-evict). */
  | { kind: 'full'; stale: TableEntry }

interface BucketNode {
  contacts: TableEntry[] | null
  dontSplit: boolean
  left: BucketNode
  right: BucketNode
}

/** Builds the table entry of a server endpoint (its id derived from the endpoint, §4.1). */
export function entryOf(address: Address, grouping: Grouping): TableEntry {
  return entryFromWire(encodeAddress(address), grouping)!
}

/**
 * Decoded endpoints by compact form and grouping: a reply's 20 contacts are mostly ones seen before,
 * and every entry of one endpoint shares its id, wire bytes and strings.
 */
const endpoints = new BoundedMap<number | string, Endpoint>(16384)

/**
 * The table entry of a compact endpoint (from a reply's `n` list, or encoded), or null if it is
 * malformed. Cached, so the hot path does not re-hash ids or rebuild strings (a v4 endpoint's cache
 * key is a number: 48 bits of endpoint, bit 48 for the grouping).
 */
export function entryFromWire(wire: Uint8Array, grouping: Grouping): TableEntry | null {
  const cacheKey =
    wire.length === 6
      ? wireNumber(wire) + (grouping === 'endpoint' ? 2 ** 48 : 0)
      : `${grouping}${Buffer.from(wire).toString('latin1')}`
  let endpoint = endpoints.get(cacheKey)
  if (endpoint === undefined) {
    const address = decodeAddress(wire)
    if (address === null) return null
    const copy = Uint8Array.from(wire)
    const { host, port } = address
    const key = addressKey(address)
    const group = grouping === 'endpoint' ? key : groupOf(address, grouping)
    endpoint = { id: nodeIdOf(address, copy), wire: copy, host, port, key, group }
    endpoints.set(cacheKey, endpoint)
  }
  return new TableEntry(endpoint)
}

function wireNumber(wire: Uint8Array): number {
  return (
    ((wire[0]! * 256 + wire[1]!) * 256 + wire[2]!) * 16777216 + wire[3]! * 65536 + wire[4]! * 256 + wire[5]!
  )
}

/**
 * The Kademlia routing table (`spec/dht.md` §6.1) on the `k-bucket` package, with what it lacks:
 * an explicit count on every `closest` (its default n = Infinity returned the whole table in
 * bittorrent-dht replies), at most `nodesPerGroup` nodes of one /24 or /64 per bucket, and a
 * ping-before-evict result instead of an event.
 */
export class RoutingTable {
  readonly #buckets: KBucket<TableEntry>
  readonly #nodesPerGroup: number
  #full: TableEntry | null = null

  constructor(localId: Uint8Array, k: number, nodesPerGroup: number) {
    this.#buckets = new KBucket<TableEntry>({
      distance: prefixDistance,
      localNodeId: localId,
      numberOfNodesPerKBucket: k,
      numberOfNodesToPing: 1,
    })
    this.#buckets.on('ping', (stale: TableEntry[]) => {
      this.#full = stale[0] ?? null
    })
    this.#nodesPerGroup = nodesPerGroup
  }

  get size(): number {
    return this.#buckets.count()
  }

  /** Adds or refreshes (moves to most-recently-seen) `entry`, seen alive at `now`. */
  add(entry: TableEntry, now: number): AddResult {
    const existing = this.#buckets.get(entry.id)
    if (existing === null && this.#groupCount(entry) >= this.#nodesPerGroup) return { kind: 'rejected' }
    this.#full = null
    const current = existing ?? entry
    current.fails = 0
    current.seenAt = now
    this.#buckets.add(current)
    const stale = this.#full as TableEntry | null
    return stale === null ? { kind: 'added' } : { kind: 'full', stale }
  }

  /** The `n` nodes closest to `target`; `n` is required on purpose. */
  closest(target: Uint8Array, n: number): TableEntry[] {
    return this.#buckets.closest(target, n)
  }

  get(id: Uint8Array): TableEntry | null {
    return this.#buckets.get(id)
  }

  remove(id: Uint8Array): void {
    this.#buckets.remove(id)
  }

  /**
   * Ids to look up to fill the farthest under-full buckets (fewer than `below` nodes, default k/2)
   * among the first `depth` bucket levels: our id with bit i flipped and random bits after it
   * (Kademlia §2.3 refresh).
   */
  refreshTargets(
    depth: number,
    max: number,
    random: Uint8Array,
    below = this.#buckets.numberOfNodesPerKBucket / 2,
  ): Uint8Array[] {
    const local = this.#buckets.localNodeId
    const counts = new Array<number>(depth).fill(0)
    for (const entry of this.all()) {
      const bit = firstDifferingBit(local, entry.id)
      if (bit < depth) counts[bit]!++
    }
    const out: Uint8Array[] = []
    for (let bit = 0; bit < depth && out.length < max; bit++) {
      if (counts[bit]! < below) out.push(flipBit(local, bit, random))
    }
    return out
  }

  all(): TableEntry[] {
    return this.#buckets.toArray()
  }

  /** True when `entry` is new and would be added without evicting anyone (no probe is worth it otherwise). */
  hasRoom(entry: TableEntry): boolean {
    const bucket = this.#bucketOf(entry.id)
    if (this.#buckets.get(entry.id) !== null || this.#groupCount(entry) >= this.#nodesPerGroup) return false
    return bucket.contacts!.length < this.#buckets.numberOfNodesPerKBucket || !bucket.dontSplit
  }

  /** True when the bucket `id` would go to holds fewer than `below` nodes. */
  isSparse(id: Uint8Array, below: number): boolean {
    return this.#bucketOf(id).contacts!.length < below
  }

  /** Nodes of `entry`'s group already in the bucket `entry` would go to. */
  #groupCount(entry: TableEntry): number {
    return this.#bucketOf(entry.id).contacts!.filter((contact) => contact.group === entry.group).length
  }

  /** The leaf bucket of `id`, walking the tree as k-bucket does (bit 0 = most significant). */
  #bucketOf(id: Uint8Array): BucketNode {
    let node = this.#buckets.root as unknown as BucketNode
    for (let bit = 0; node.contacts === null; bit++) {
      node = (id[bit >> 3]! >> (7 - (bit & 7))) & 1 ? node.right : node.left
    }
    return node
  }
}

function firstDifferingBit(a: Uint8Array, b: Uint8Array): number {
  for (let i = 0; i < a.length; i++) {
    const x = a[i]! ^ b[i]!
    if (x !== 0) return i * 8 + Math.clz32(x) - 24
  }
  return a.length * 8
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

/**
 * XOR distance of the first 6 bytes as a number: exact in a double (k-bucket's default folds all 32
 * bytes into a float, slower and no more precise). Ties beyond 48 bits need ~2^48 nodes to matter,
 * and lookups order candidates by the full distance anyway.
 */
function prefixDistance(a: Uint8Array, b: Uint8Array): number {
  let distance = 0
  for (let i = 0; i < 6; i++) distance = distance * 256 + (a[i]! ^ b[i]!)
  return distance
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
