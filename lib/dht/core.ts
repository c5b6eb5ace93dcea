import { type Ed25519KeyPair, randomBytes } from '../crypto/index.js'
import {
  type Address,
  addressKey,
  decodeAddress,
  type Family,
  familyOf,
  type Grouping,
  nodeIdOf,
} from './address.js'
import {
  Command,
  type CommandCode,
  DEFAULT_LIMITS,
  type DhtLimits,
  K,
  MAX_DATAGRAM_BYTES,
  MAX_NODE_FAILURES,
  MessageType,
  WireError,
} from './constants.js'
import { AddressVotes } from './votes.js'

/** Refresh period while the table holds fewer than k nodes: a node that joined an empty network catches up. */
const EARLY_REFRESH_MS = 15_000
/** A bucket with fewer nodes learns from replies' contacts (PINGed first), not only from requesters. */
const SPARSE_BUCKET = 2
/** Bucket levels the refresh looks after: 2^8 = 256 buckets' worth of network is plenty per pass. */
const REFRESH_DEPTH = 8
/** Link peers remembered (§9.1): a LAN holds a handful of devices; beyond, the oldest are forgotten. */
const MAX_LINK_PEERS = 64

import { BoundedMap } from './bounded-map.js'
import {
  type ByteText,
  bytesOf,
  endpointText,
  equalsText,
  groupText,
  nodeIdText,
  textOf,
} from './endpoint.js'
import type { DhtEvent } from './events.js'
import type { LookupOptions } from './lookup.js'
import {
  decodeMessage,
  encodeRequest,
  encodeResponse,
  type Message,
  type RequestBody,
  replyBudget,
  type WireRecord,
} from './messages.js'
import { type QueryHost, QueryRunner } from './queries.js'
import { RateLimiter } from './rate-limit.js'
import { respond } from './responder.js'
import { type Contact, loadTable, RoutingTable, type SavedTable, saveTable, TableEntry } from './routing.js'
import { RttEstimator } from './rtt.js'
import { OWN_SOURCE, RecordStore } from './store.js'
import { TokenIssuer } from './tokens.js'

/** Options of a {@link DhtCore} (`spec/dht.md` §4.2). */
export interface DhtCoreOptions {
  family: Family
  /**
   * `server`: reachable at `address`, has an id and enters others' tables. `client`: never. `auto`:
   * a client until the voted external address is one of `localAddresses` (no NAT in between).
   */
  mode: 'server' | 'client' | 'auto'
  /** Our endpoint, required for `server`. */
  address?: Address
  /** Our endpoints as bound locally, for `auto`. */
  localAddresses?: Address[]
  /** Endpoints to join through; empty for the first node of a private network. */
  bootstrap?: Address[]
  /** A table saved by {@link DhtCore.exportRoutingTable} (validated with zod). */
  routingTable?: unknown
  /**
   * Also keep our own records in our own store (§7.5): set where peers may appear later on our link
   * (LAN discovery), so a record published while alone is there for the first one that asks.
   */
  keepOwnRecords?: boolean
  grouping?: Grouping
  limits?: Partial<DhtLimits>
  /** Source of transaction ids and refresh targets; a seeded one makes simulations reproducible. */
  random?: (length: number) => Uint8Array
  now: number
}

/** A datagram for the adapter to send. */
export interface Transmit {
  data: Uint8Array
  to: Address
}

/** Counters the adapter exposes through `stats()` (`spec/dht.md` §8.5). */
export interface DhtCounters {
  datagramsIn: number
  datagramsOut: number
  bytesIn: number
  bytesOut: number
  largestDatagramOut: number
  malformed: number
  idMismatch: number
  unexpectedResponses: number
  rateLimited: number
  repliesDropped: number
  requestsServed: number
  timeouts: number
  /** Requests sent again after no reply (§6.2); 0 on a lossless network. */
  retransmits: number
}

interface Transaction {
  t: number
  to: TableEntry
  /** The request as sent: a retransmission is the same datagram, same `t` (§6.2). */
  data: Uint8Array
  sentAt: number
  stallAt: number
  failAt: number
  /** When the next retransmission is due; Infinity once all are sent. */
  resendAt: number
  /** Transmissions so far: a reply to a retransmitted request gives no RTT sample (Karn). */
  tries: number
  stalled: boolean
  /** `closer`: the reply's `n` list decoded once, for the table and the query alike. */
  onReply: (response: Message, server: boolean, now: number, closer: TableEntry[]) => void
  onStall: (now: number) => void
  onFail: (now: number) => void
  /** Entries the requester already holds, by endpoint: contacts it names need no id hashing. */
  known?: (key: ByteText) => TableEntry | undefined
}

/**
 * The sans-I/O DHT node (`spec/dht.md`): feed it datagrams with {@link receive} and time with
 * {@link handleTimeout}; take datagrams from {@link pollTransmit} and events from {@link nextEvent}.
 * It never reads a clock or touches a socket. One core serves one IP family.
 */
export class DhtCore implements QueryHost {
  readonly family: Family
  readonly limits: DhtLimits
  readonly grouping: Grouping
  readonly counters: DhtCounters = {
    datagramsIn: 0,
    datagramsOut: 0,
    bytesIn: 0,
    bytesOut: 0,
    largestDatagramOut: 0,
    malformed: 0,
    idMismatch: 0,
    unexpectedResponses: 0,
    rateLimited: 0,
    repliesDropped: 0,
    requestsServed: 0,
    timeouts: 0,
    retransmits: 0,
  }
  #id: Uint8Array
  #address: Address | null
  /** Our compact endpoint as text, null while a client. */
  #self: ByteText | null
  #table: RoutingTable
  readonly #mode: DhtCoreOptions['mode']
  readonly #localAddresses: Address[]
  readonly #store: RecordStore
  readonly #tokens: TokenIssuer
  readonly #limiter: RateLimiter
  readonly #rtt: RttEstimator
  readonly #votes = new AddressVotes()
  readonly #transactions = new Map<number, Transaction>()
  readonly #probes: BoundedMap<string, true>
  readonly #outbox: Transmit[] = []
  readonly #events: DhtEvent[] = []
  readonly #queries: QueryRunner
  readonly #random: (length: number) => Uint8Array
  #nextT: number
  #gcAt: number
  #refreshAt: number
  /** Bootstrap and saved-table endpoints: rejoined through while our table is empty (§9). */
  #seeds: TableEntry[] = []
  /** Endpoints of the configured bootstrap nodes: never dropped from the table (§6.1, §9). */
  #pinned = new Set<ByteText>()
  #joinAttempts = 0
  /** Nodes LAN discovery found on our link (§9.1): pinged again when we become a server. */
  readonly #linkPeers = new BoundedMap<ByteText, true>(MAX_LINK_PEERS)
  readonly #keepOwnRecords: boolean
  /** The `bootstrapped` event went out: a rejoin later (an emptied table) does not repeat it. */
  #reported = false
  /** When the next join attempt is due; Infinity when none is. */
  #joinAt = Number.POSITIVE_INFINITY

  constructor(options: DhtCoreOptions) {
    this.family = options.family
    this.limits = { ...DEFAULT_LIMITS, ...options.limits }
    this.grouping = options.grouping ?? 'subnet'
    this.#mode = options.mode
    this.#localAddresses = options.localAddresses ?? []
    this.#keepOwnRecords = options.keepOwnRecords ?? false
    this.#address = options.mode === 'server' ? (options.address ?? null) : null
    if (options.mode === 'server' && this.#address === null)
      throw new TypeError('server mode needs an address')
    this.#random = options.random ?? randomBytes
    this.#nextT = this.#random(4).reduce((acc, byte) => acc * 256 + byte, 0)
    this.#id = this.#address === null ? this.#random(32) : nodeIdOf(this.#address)
    this.#self = this.#address === null ? null : endpointText(this.#address)
    this.#table = new RoutingTable(textOf(this.#id), K, this.limits.nodesPerGroup, this.grouping, options.now)
    this.#store = new RecordStore(this.limits)
    this.#tokens = new TokenIssuer(options.now, this.limits.tokenRotateMs)
    this.#limiter = new RateLimiter(
      this.limits.requestsPerSecond,
      this.limits.requestBurst,
      this.limits.rateLimiterEntries,
    )
    this.#rtt = new RttEstimator(this.limits.minRtoMs, this.limits.maxRtoMs)
    this.#probes = new BoundedMap(this.limits.pendingProbes)
    this.#queries = new QueryRunner(this)
    this.#gcAt = options.now + this.limits.gcMs
    this.#refreshAt = options.now + this.limits.refreshMs
    this.#bootstrap(options, options.now)
  }

  /** Our node id: address-bound when a server, a random placeholder (never sent) when a client. */
  get id(): Uint8Array {
    return this.#id
  }

  /** True when we act as a server: our id is in our messages and others may add us. */
  get isServer(): boolean {
    return this.#address !== null
  }

  /** The external address most responders agree they saw us at, or null (`spec/dht.md` §4.3). */
  externalAddress(): Address | null {
    return this.#votes.winner()
  }

  /** Nodes in the routing table. */
  get tableSize(): number {
    return this.#table.size
  }

  /** The routing table's nodes. */
  contacts(): Contact[] {
    return this.#table.all().map(({ id, host, port }) => ({ id, host, port }))
  }

  /** Routing table snapshot for persistence (§6.4). */
  exportRoutingTable(): SavedTable {
    return saveTable(this.#table.all())
  }

  /** Records held and their bytes. */
  storeStats(): { records: number; bytes: number } {
    return { records: this.#store.size, bytes: this.#store.bytes }
  }

  /** Feeds one datagram from `from`. Malformed input is counted in {@link counters}, never thrown. */
  receive(datagram: Uint8Array, from: Address, now: number): void {
    this.counters.datagramsIn++
    this.counters.bytesIn += datagram.length
    const message = decodeMessage(datagram)
    if (message === null) {
      this.counters.malformed++
      return
    }
    const key = endpointText(from)
    // A response comes from the entry we asked: its id is at hand, no table scan or hashing needed.
    const asked = message.y === MessageType.RESPONSE ? this.#transactions.get(message.t)?.to : undefined
    const server = this.#verifiedServer(message, key, asked?.key === key ? asked : null)
    if (message.y === MessageType.REQUEST) this.#onRequest(message, from, key, server, datagram.length, now)
    else this.#onResponse(message, key, server, now)
  }

  /** The next datagram to send, or null. */
  pollTransmit(_now?: number): Transmit | null {
    return this.#outbox.shift() ?? null
  }

  /** The next event, or null. */
  nextEvent(): DhtEvent | null {
    return this.#events.shift() ?? null
  }

  /** When {@link handleTimeout} must next run, or null when nothing is scheduled. */
  pollTimeout(): number | null {
    let at = Math.min(
      this.#gcAt,
      this.#refreshAt,
      this.#joinAt,
      this.#tokens.rotatesAt,
      this.#queries.nextTimer(),
    )
    for (const transaction of this.#transactions.values())
      at = Math.min(at, transaction.stalled ? transaction.failAt : transaction.stallAt, transaction.resendAt)
    return at
  }

  /** Runs everything due at `now`: stalls and timeouts, token rotation, GC, refresh, republish. */
  handleTimeout(now: number): void {
    this.#expireTransactions(now)
    this.#tokens.rotate(now)
    if (now >= this.#gcAt) {
      this.#store.sweep(now)
      this.#gcAt = now + this.limits.gcMs
    }
    if (now >= this.#refreshAt) this.#refresh(now)
    if (now >= this.#joinAt) this.#join(now)
    this.#queries.handleTimeout(now)
  }

  /** Starts a lookup for the k nodes closest to `target`; events carry the returned query id. */
  findNode(target: Uint8Array, now: number): number {
    return this.#queries.findNode(target, now)
  }

  /** Starts a record lookup; `records` events stream verified records, `queryDone` ends it. */
  get(namespace: string, key: Uint8Array, now: number, publicKey?: Uint8Array): number {
    return this.#queries.get(namespace, key, now, publicKey)
  }

  /** Signs and stores a record on the k closest nodes; ends with a `putDone` event. */
  put(
    namespace: string,
    key: Uint8Array,
    value: Uint8Array,
    options: { keyPair: Ed25519KeyPair; ttlMs: number; seq?: number },
    now: number,
  ): number {
    return this.#queries.put(namespace, key, value, options, now)
  }

  /** Puts now and again every ttl/2 until {@link withdraw}; returns the publication id. */
  publish(
    namespace: string,
    key: Uint8Array,
    value: Uint8Array,
    options: { keyPair: Ed25519KeyPair; ttlMs: number },
    now: number,
  ): { publication: number; query: number } {
    return this.#queries.publish(namespace, key, value, options, now)
  }

  /** Stops republishing and stores a signed delete; returns the delete's query id (or null). */
  withdraw(publication: number, now: number): number | null {
    return this.#queries.withdraw(publication, now)
  }

  /**
   * A node LAN discovery found on our link (§9.1): pinged at once. Being on our link, it sees us at our
   * own interface address; an `auto` node it names so becomes a server at once, without waiting for a
   * second voter group (§4.3), since no NAT can be between two nodes of one link. A server reply adds
   * it to the table (as every reply does) and starts a join lookup through it.
   */
  addLinkPeer(address: Address, now: number): void {
    if (familyOf(address.host) !== this.family || this.#isLocal(address)) return
    const entry = this.#entryOf(endpointText(address))
    if (entry.key === this.#self) return
    this.#linkPeers.set(entry.key, true)
    this.#pingLinkPeer(entry, now)
  }

  #pingLinkPeer(entry: TableEntry, now: number): void {
    const onReply = (response: Message, server: boolean, at: number) => {
      const seen = decodeAddress(response.to)
      if (seen !== null && this.#mode === 'auto' && this.#address === null && this.#isLocal(seen))
        this.#becomeServer(seen, at)
      if (server) this.#queries.findNode(this.#id, at, true, [entry])
    }
    this.request(entry, Command.PING, {}, { onReply, onFail: () => {} }, now)
  }

  /** Abandons a query: no more events for it. */
  cancel(query: number): void {
    this.#queries.cancel(query)
  }

  // --- QueryHost: what the query runner uses -------------------------------------------------------

  /** @internal */
  emit(event: DhtEvent): void {
    this.#events.push(event)
  }

  /** @internal The table's closest entries, as lookup seeds. */
  closestEntries(target: Uint8Array, n: number): TableEntry[] {
    return this.#table.closest(textOf(target), n)
  }

  /** @internal Bootstrap and saved-table endpoints: what a query starts from while the table is empty. */
  get seeds(): readonly TableEntry[] {
    return this.#seeds
  }

  /** @internal With `keepOwnRecords` (§7.5), stores our own record in our own store; true if it did. */
  keepOwn(namespace: string, key: Uint8Array, record: WireRecord, now: number): boolean {
    if (!this.#keepOwnRecords) return false
    return this.#store.put(namespace, key, record, OWN_SOURCE, now) === WireError.OK
  }

  /** @internal */
  localRecords(namespace: string, key: Uint8Array, now: number, publicKey?: Uint8Array): WireRecord[] {
    return this.#store.get(namespace, key, now, publicKey)
  }

  /** @internal Sends a request; false when too many are in flight. */
  request(
    to: TableEntry,
    command: CommandCode,
    body: RequestBody,
    handlers: Pick<Transaction, 'onReply' | 'onFail'> & Partial<Pick<Transaction, 'onStall' | 'known'>>,
    now: number,
  ): boolean {
    if (this.#transactions.size >= this.limits.maxTransactions) return false
    const t = this.#allocateT()
    const id = this.#address === null ? undefined : this.#id
    const data = encodeRequest({ t, c: command, to: to.wire, id }, body)
    this.#send(data, to, now)
    const rto = this.#rtt.rto(this.#table.get(to.idText))
    // A request fails after `failAfterRtos` RTOs but never later than maxRtoMs: a dead node must not
    // hold a lookup for seconds because the network-wide estimate was inflated by a slow moment.
    const span = Math.min(this.limits.maxRtoMs, rto * this.limits.failAfterRtos)
    this.#transactions.set(t, {
      t,
      to,
      data,
      sentAt: now,
      stallAt: now + rto,
      failAt: now + span,
      resendAt: now + resendOffset(span, 1, this.limits.retransmits),
      tries: 1,
      stalled: false,
      onStall: () => {},
      ...handlers,
    })
    return true
  }

  // --- receiving --------------------------------------------------------------------------------------

  /**
   * The sender's entry (from the table, else new) when the message carries the id bound to its
   * endpoint `key` (checked every message), else null. A known sender's id is not hashed again.
   */
  #verifiedServer(message: Message, key: ByteText, asked: TableEntry | null): TableEntry | null {
    if (message.id === undefined) return null
    const known = asked ?? this.#table.find(key)
    const idText = known?.idText ?? nodeIdText(key)
    if (equalsText(message.id, idText)) return known ?? new TableEntry(key, idText)
    this.counters.idMismatch++
    return null
  }

  /**
   * Charges a datagram that is not a DHT message (STUN on a bootstrap node's port, `spec/dht.md` §3.4)
   * to its source's request budget (§8.2): false when the source is over its rate and it must be dropped.
   */
  admitForeign(from: Address, now: number): boolean {
    if (this.#limiter.allow(groupText(endpointText(from), this.grouping), now)) return true
    this.counters.rateLimited++
    return false
  }

  #onRequest(
    request: Message,
    from: Address,
    key: ByteText,
    server: TableEntry | null,
    size: number,
    now: number,
  ): void {
    const source = groupText(key, this.grouping)
    if (!this.#limiter.allow(source, now)) {
      this.counters.rateLimited++
      return
    }
    this.counters.requestsServed++
    if (server !== null) this.#noteRequester(server, now)
    const body = respond(
      { table: this.#table, store: this.#store, tokens: this.#tokens },
      request,
      key,
      source,
      now,
    )
    const id = this.#address === null ? undefined : this.#id
    const reply = encodeResponse(
      { t: request.t, c: request.c, to: bytesOf(key), id },
      body,
      replyBudget(size),
    )
    if (reply === null) this.counters.repliesDropped++
    else this.#send(reply, from, now)
  }

  #onResponse(response: Message, key: ByteText, server: TableEntry | null, now: number): void {
    const transaction = this.#transactions.get(response.t)
    if (transaction === undefined || transaction.to.key !== key) {
      this.counters.unexpectedResponses++
      return
    }
    this.#transactions.delete(response.t)
    const seen = decodeAddress(response.to)
    if (seen !== null) this.#vote(key, seen, now)
    if (server !== null) this.#insert(transaction.to, now)
    if (transaction.tries === 1)
      this.#rtt.sample(this.#table.get(transaction.to.idText), now - transaction.sentAt)
    const closer = this.#closerEntries(response.n, transaction.known)
    if (server !== null) this.#fillSparse(closer, now)
    transaction.onReply(response, server !== null, now, closer)
  }

  /**
   * A verified server sent us a request: refresh it if known; if its bucket has room, ping it first
   * (its reply confirms it is reachable and not a spoofed source) and add it then.
   */
  #noteRequester(entry: TableEntry, now: number): void {
    const known = this.#table.get(entry.idText)
    if (known !== null) {
      this.#table.add(known, now)
      return
    }
    if (this.#table.hasRoom(entry)) this.#probe(entry, now, () => this.#table.add(entry, now))
  }

  /**
   * The first contact of a reply that falls in a sparse bucket of ours (fewer than
   * {@link SPARSE_BUCKET} nodes) is PINGed and added if it answers (§6.1). Without this a far bucket fills only when its nodes
   * happen to query us, and a region of nodes that all lack one far bucket ends lookups short of the
   * target (1-8% of lookups in a 10,000-node network).
   */
  #fillSparse(closer: TableEntry[], now: number): void {
    for (const entry of closer) {
      if (!this.#table.isSparse(entry.idText, SPARSE_BUCKET) || !this.#table.hasRoom(entry)) continue
      // One per reply: a reply's contacts tend to share a bucket, which needs 2 nodes, not 20 probes.
      this.#probe(entry, now, () => this.#table.add(entry, now))
      return
    }
  }

  /**
   * Adds a node that answered us. On a full bucket, the least recently seen node is pinged if it has
   * been quiet for `staleAfterMs` and evicted if silent (ping-before-evict); a recently seen one stays.
   */
  #insert(entry: TableEntry, now: number): void {
    const result = this.#table.add(entry, now)
    if (result.kind !== 'full' || now - this.#table.seenAt(result.stale) < this.limits.staleAfterMs) return
    if (this.#pinned.has(result.stale.key)) return
    this.#probe(
      result.stale,
      now,
      (stale) => this.#table.add(stale, now),
      () => {
        this.#dropEntry(result.stale, now)
        this.#table.add(entry, now)
      },
    )
  }

  #probe(entry: TableEntry, now: number, onAlive: (entry: TableEntry) => void, onDead = () => {}): void {
    if (this.#probes.has(entry.key) || this.#probes.size >= this.limits.pendingProbes) return
    this.#probes.set(entry.key, true)
    const settle = (alive: boolean) => {
      this.#probes.delete(entry.key)
      if (alive) onAlive(entry)
      else onDead()
    }
    const sent = this.request(
      entry,
      Command.PING,
      {},
      { onReply: (_r, server) => settle(server), onFail: () => settle(false) },
      now,
    )
    if (!sent) this.#probes.delete(entry.key)
  }

  #vote(from: ByteText, seen: Address, now: number): void {
    this.#votes.vote(groupText(from, this.grouping), seen)
    if (this.#mode !== 'auto' || this.#address !== null) return
    const winner = this.#votes.winner()
    if (winner !== null && this.#isLocal(winner)) this.#becomeServer(winner, now)
  }

  #isLocal(address: Address): boolean {
    return this.#localAddresses.some((local) => addressKey(local) === addressKey(address))
  }

  /**
   * `auto` mode found no NAT in between: take the address-bound id and rebuild the table under it.
   * Link peers that answered while we were a client did not add us; pinged again, now with our id, they
   * do (§9.1).
   */
  #becomeServer(address: Address, now: number): void {
    this.#address = address
    this.#id = nodeIdOf(address)
    this.#self = endpointText(address)
    this.#table = this.#table.rebuilt(textOf(this.#id))
    for (const key of this.#linkPeers.keys()) this.#pingLinkPeer(this.#entryOf(key), now)
  }

  // --- sending and timers -----------------------------------------------------------------------------

  #send(data: Uint8Array, to: Address, _now: number): void {
    if (data.length > MAX_DATAGRAM_BYTES) throw new RangeError(`datagram of ${data.length} bytes`)
    this.counters.datagramsOut++
    this.counters.bytesOut += data.length
    this.counters.largestDatagramOut = Math.max(this.counters.largestDatagramOut, data.length)
    this.#outbox.push({ data, to: { host: to.host, port: to.port } })
  }

  #allocateT(): number {
    do this.#nextT = (this.#nextT + 1) >>> 0
    while (this.#transactions.has(this.#nextT))
    return this.#nextT
  }

  #expireTransactions(now: number): void {
    const due = [...this.#transactions.values()].filter(
      (tx) => now >= tx.failAt || now >= tx.resendAt || (!tx.stalled && now >= tx.stallAt),
    )
    for (const transaction of due) {
      if (now >= transaction.failAt) {
        this.#fail(transaction, now)
        continue
      }
      if (now >= transaction.resendAt) this.#resend(transaction, now)
      if (!transaction.stalled && now >= transaction.stallAt) {
        transaction.stalled = true
        transaction.onStall(now)
      }
    }
  }

  /** Sends the request again, same bytes and `t`: the reply to either copy settles it (§6.2). */
  #resend(transaction: Transaction, now: number): void {
    this.counters.retransmits++
    this.#send(transaction.data, transaction.to, now)
    const span = transaction.failAt - transaction.sentAt
    // After the i-th transmission comes retransmission i (the first transmission is number 1).
    const offset = resendOffset(span, ++transaction.tries, this.limits.retransmits)
    transaction.resendAt = offset === Number.POSITIVE_INFINITY ? offset : transaction.sentAt + offset
  }

  #fail(transaction: Transaction, now: number): void {
    this.#transactions.delete(transaction.t)
    this.counters.timeouts++
    const known = this.#table.get(transaction.to.idText)
    this.#rtt.backoff(known)
    if (known !== null && ++known.fails >= MAX_NODE_FAILURES && !this.#pinned.has(known.key))
      this.#dropEntry(known, now)
    transaction.onFail(now)
  }

  /** Drops a dead entry; a table left empty rejoins through the seeds at once, not at the next refresh (§9). */
  #dropEntry(entry: TableEntry, now: number): void {
    this.#table.remove(entry.idText)
    if (this.#table.size > 0 || this.#seeds.length === 0) return
    this.#joinAttempts = 0
    this.#joinAt = Math.min(this.#joinAt, now)
  }

  /**
   * Table maintenance (§6.1): a lookup of our own id (neighbours learn of us and we of them) and one of
   * a random id (a far bucket). A young node whose table is still small refreshes early and often.
   */
  #refresh(now: number): void {
    const small = this.#table.size < K
    this.#refreshAt = now + (small ? EARLY_REFRESH_MS : this.limits.refreshMs)
    this.#queries.findNode(this.#id, now, true, this.#table.size === 0 ? this.#seeds : [])
    this.#refreshBuckets(now, 2)
  }

  /**
   * @internal A join attempt converged; `replied` servers answered it. With no answer from any seed (a
   * lost datagram, a node still starting) the join is retried after `joinBackoffMs`, doubling (1, 2, 4,
   * 8 s by default); `bootstrapped` reports the outcome once (§9).
   */
  joinDone(replied: number, now: number): void {
    const failed = replied === 0 && this.#seeds.length > 0
    if (failed && this.#joinAttempts <= this.limits.joinRetries) {
      this.#joinAt = now + this.limits.joinBackoffMs * 2 ** (this.#joinAttempts - 1)
      return
    }
    if (!this.#reported) this.emit({ type: 'bootstrapped', joined: !failed })
    this.#reported = true
    this.#joined(now)
  }

  /**
   * The join converged: fill the farthest under-full bucket, give every sparse bucket
   * a few nodes (a far bucket left empty is a blind spot for lookups passing through us: 1% of lookups
   * failed in a 10,000-node network without this), schedule refreshes.
   */
  #joined(now: number): void {
    this.#refreshBuckets(now, 1)
    const sparse = this.#table.refreshTargets(REFRESH_DEPTH, REFRESH_DEPTH, this.#random(32), SPARSE_BUCKET)
    this.#queries.fillBuckets(sparse, SPARSE_BUCKET, now)
    if (this.#table.size < K) this.#refreshAt = Math.min(this.#refreshAt, now + EARLY_REFRESH_MS)
  }

  /** Looks up ids in the farthest under-full buckets (at most `max` per call). */
  #refreshBuckets(now: number, max: number): void {
    for (const target of this.#table.refreshTargets(REFRESH_DEPTH, max, this.#random(32)))
      this.#queries.findNode(target, now, true)
  }

  #bootstrap(options: DhtCoreOptions, now: number): void {
    const seeds = [
      ...(options.bootstrap ?? []),
      ...(options.routingTable === undefined ? [] : loadTable(options.routingTable)),
    ]
    const keys = seeds.map(endpointText).filter((key) => key !== this.#self)
    const entries = keys.map((key) => this.#entryOf(key))
    for (const address of options.bootstrap ?? []) this.#pinned.add(endpointText(address))
    // A saved table may name thousands; K seeds are plenty to retry or rejoin through.
    this.#seeds = entries.slice(0, K)
    this.#join(now, entries)
  }

  /** One join attempt: a lookup of our own id through the seeds (§9). */
  #join(now: number, seeds = this.#seeds): void {
    this.#joinAt = Number.POSITIVE_INFINITY
    this.#joinAttempts++
    this.#queries.bootstrap(this.#id, seeds, now)
  }

  /**
   * Decodes a reply's `n` list: right family, non-zero port, not ourselves. Each contact is the entry
   * `known` (the query's) or our table holds for it, else a new one whose id is hashed (§4.1).
   */
  #closerEntries(nodes: Uint8Array[] | undefined, known?: (key: ByteText) => TableEntry | undefined) {
    const out: TableEntry[] = []
    const length = this.family === 4 ? 6 : 18
    for (const wire of nodes ?? []) {
      if (wire.length !== length || wire[length - 2]! + wire[length - 1]! === 0) continue
      const key = textOf(wire)
      if (key !== this.#self) out.push(known?.(key) ?? this.#entryOf(key))
    }
    return out
  }

  /** The entry of a compact endpoint: the table's if known (no hashing), else a new one. */
  #entryOf(key: ByteText): TableEntry {
    return this.#table.find(key) ?? new TableEntry(key, nodeIdText(key))
  }

  /** @internal Lookup parameters. */
  lookupOptions(): LookupOptions {
    return {
      k: K,
      alpha: this.limits.alpha,
      shortlist: this.limits.shortlist,
      nodesPerGroup: this.limits.nodesPerGroup,
      grouping: this.grouping,
    }
  }
}

/**
 * When retransmission `i` (1-based) of `n` is due, as an offset from the first transmission within a
 * request's `span` (4 RTO): span·(1 - 2^-i), i.e. after 2 and 3 RTO for n = 2. Not before 2 RTO: a
 * reply between 1 and 2 RTO (a busy moment, not a loss) is still a valid RTT sample, so the estimate
 * learns the slow spell instead of every request being sent twice through it (§6.2). Infinity once
 * all were sent.
 */
function resendOffset(span: number, i: number, n: number): number {
  return i > n ? Number.POSITIVE_INFINITY : span * (1 - 2 ** -i)
}
