import { type Ed25519KeyPair, toHex } from '../crypto/index.js'
import { Command, type CommandCode, type DhtLimits, K, WireError } from './constants.js'
import type { DhtEvent } from './events.js'
import { Lookup, type LookupOptions } from './lookup.js'
import type { Message, RequestBody, WireRecord } from './messages.js'
import {
  assertPublishable,
  type DhtRecord,
  signRecord,
  storageTarget,
  toDhtRecord,
  verifyRecord,
} from './record.js'
import type { TableEntry } from './routing.js'

/** What the query runner needs from the core (implemented by `DhtCore`). */
export interface QueryHost {
  readonly limits: DhtLimits
  emit(event: DhtEvent): void
  closestEntries(target: Uint8Array, n: number): TableEntry[]
  lookupOptions(): LookupOptions
  /** Records our own store holds: we may be one of the k closest nodes ourselves. */
  localRecords(namespace: string, key: Uint8Array, now: number, publicKey?: Uint8Array): WireRecord[]
  /** Stores our own record in our own store when the node keeps its own records (§7.5); true if it did. */
  keepOwn(namespace: string, key: Uint8Array, record: WireRecord, now: number): boolean
  /**
   * Bootstrap and saved-table endpoints: a caller's query starts from them while the table is empty
   * (a node that lost every contact still reaches the network) and may retry through them.
   */
  readonly seeds: readonly TableEntry[]
  /** The join lookup converged; `replied` is how many servers answered it. */
  joinDone(replied: number, now: number): void
  request(
    to: TableEntry,
    command: CommandCode,
    body: RequestBody,
    handlers: {
      onReply: (response: Message, server: boolean, now: number, closer: TableEntry[]) => void
      onFail: (now: number) => void
      onStall?: (now: number) => void
      known?: (key: string) => TableEntry | undefined
    },
    now: number,
  ): boolean
}

interface Query {
  id: number
  lookup: Lookup
  /** A new lookup for the same target, seeded afresh: a retry starts from it. */
  fresh: () => Lookup
  command: CommandCode
  body: RequestBody
  onReply: (entry: TableEntry, response: Message, now: number) => void
  onDone: (query: Query, now: number) => void
  /** Second-page requests in flight (§6.3); -1 before any was sent. */
  extra: number
  /** Retries left for a lookup that reached no server (or a PUT nobody stored); 0 for maintenance. */
  retries: number
}

/** A query waiting to start again. */
interface Retry {
  at: number
  query: Query
}

interface Publication {
  namespace: string
  key: Uint8Array
  value: Uint8Array
  keyPair: Ed25519KeyPair
  ttlMs: number
  seq: number
  nextAt: number
}

/** Second pages a lookup that met dead nodes asks for at most (§6.3). */
const SECOND_PAGES = K / 2

type PutOptions = { keyPair: Ed25519KeyPair; ttlMs: number; seq?: number }

/**
 * Runs lookups, GETs, PUTs and publications on top of the core's transactions (`spec/dht.md` §6.3,
 * §7.4). Each query is a {@link Lookup} plus what to do with replies and with the converged result.
 */
export class QueryRunner {
  readonly #host: QueryHost
  readonly #queries = new Map<number, Query>()
  /** Allocated with the first publication: most nodes publish nothing. */
  #publications: Map<number, Publication> | null = null
  /** Queries waiting out their backoff before they start again, in no order (there are few). */
  #retries: Retry[] = []
  #nextId = 1

  constructor(host: QueryHost) {
    this.#host = host
  }

  /** The join lookup for our own id through `seeds`; tells the host how many servers answered. */
  bootstrap(id: Uint8Array, seeds: TableEntry[], now: number): void {
    this.#start(Command.FIND_NODE, id, { tg: id }, seeds, now, {
      onDone: (query, at) => this.#host.joinDone(query.lookup.closest().length, at),
      retry: false,
    })
  }

  /**
   * A FIND_NODE lookup from the table's closest nodes and `seeds`; `silent` for table maintenance,
   * whose result nobody awaits.
   */
  findNode(target: Uint8Array, now: number, silent = false, seeds: TableEntry[] = []): number {
    const onDone = silent ? () => {} : (query: Query) => this.#emitDone(query)
    return this.#start(Command.FIND_NODE, target, { tg: target }, seeds, now, { onDone, retry: !silent })
  }

  /**
   * Silent lookups, one after the other (a joining node must not flood its few contacts), each
   * converging on the `k` nodes closest to one target only: enough to put a few repliers of a sparse
   * bucket into the table (every replier is added) for a handful of requests.
   */
  fillBuckets(targets: Uint8Array[], k: number, now: number): void {
    const [target, ...rest] = targets
    if (target === undefined) return
    const onDone = (_query: Query, at: number) => this.fillBuckets(rest, k, at)
    this.#start(Command.FIND_NODE, target, { tg: target }, [], now, { onDone, retry: false }, k)
  }

  get(namespace: string, key: Uint8Array, now: number, publicKey?: Uint8Array): number {
    const body: RequestBody = { ns: namespace, k: key, ...(publicKey === undefined ? {} : { pk: publicKey }) }
    const seen = new Set<string>()
    return this.#start(Command.GET, storageTarget(namespace, key), body, [], now, {
      // Before the first request: a lookup with nobody to ask ends at once, and our store still counts.
      onStart: (query) => {
        const local = this.#host.localRecords(namespace, key, now, publicKey)
        if (local.length > 0) this.#onRecords(query, null, { rs: local } as Message, seen, now)
      },
      onReply: (query, entry, response, at) => this.#onRecords(query, entry, response, seen, at),
      onDone: (query) => this.#emitDone(query),
      retry: true,
    })
  }

  put(namespace: string, key: Uint8Array, value: Uint8Array, options: PutOptions, now: number): number {
    assertPublishable(namespace, key, value, options.ttlMs, options.keyPair.publicKey)
    // Records carry whole milliseconds; the caller's clock may not.
    const at = Math.floor(now)
    const expiresAt = at + Math.floor(options.ttlMs)
    const record = signRecord(namespace, key, { seq: options.seq ?? at, expiresAt, value }, options.keyPair)
    const tokens = new Map<string, Uint8Array>()
    const body: RequestBody = { ns: namespace, k: key, pk: options.keyPair.publicKey }
    const kept = this.#host.keepOwn(namespace, key, record, at)
    return this.#start(Command.GET, storageTarget(namespace, key), body, [], now, {
      onReply: (_query, entry, response) => {
        if (response.tk !== undefined) tokens.set(entry.key, response.tk)
      },
      onDone: (query, at) => this.#store(query, { ns: namespace, k: key, r: record }, tokens, kept, at),
      retry: true,
    })
  }

  publish(namespace: string, key: Uint8Array, value: Uint8Array, options: PutOptions, now: number) {
    const seq = options.seq ?? Math.floor(now)
    const query = this.put(namespace, key, value, { ...options, seq }, now)
    const publication = this.#nextId++
    const { keyPair, ttlMs } = options
    this.#publications ??= new Map()
    this.#publications.set(publication, {
      namespace,
      key,
      value,
      keyPair,
      ttlMs,
      seq,
      nextAt: now + ttlMs / 2,
    })
    return { publication, query }
  }

  withdraw(id: number, now: number): number | null {
    const publication = this.#publications?.get(id)
    if (publication === undefined) return null
    this.#publications!.delete(id)
    const { namespace, key, keyPair, ttlMs } = publication
    return this.put(
      namespace,
      key,
      new Uint8Array(0),
      { keyPair, ttlMs, seq: Math.max(Math.floor(now), publication.seq + 1) },
      now,
    )
  }

  cancel(query: number): void {
    this.#queries.delete(query)
    this.#retries = this.#retries.filter((retry) => retry.query.id !== query)
  }

  /** The next republish or retry time, or Infinity. */
  nextTimer(): number {
    let at = Number.POSITIVE_INFINITY
    for (const publication of this.#publications?.values() ?? []) at = Math.min(at, publication.nextAt)
    for (const retry of this.#retries) at = Math.min(at, retry.at)
    return at
  }

  /**
   * Starts again every query whose backoff ended; republishes every publication due at `now` with a
   * fresh seq and expiry (§7.4: owners republish at TTL/2).
   */
  handleTimeout(now: number): void {
    const due = this.#retries.filter((retry) => now >= retry.at)
    this.#retries = this.#retries.filter((retry) => now < retry.at)
    for (const { query } of due) {
      query.lookup = query.fresh()
      query.extra = -1
      this.#queries.set(query.id, query)
      this.#pump(query, now)
    }
    for (const publication of this.#publications?.values() ?? []) {
      if (now < publication.nextAt) continue
      publication.seq = Math.max(Math.floor(now), publication.seq + 1)
      publication.nextAt = now + publication.ttlMs / 2
      const { namespace, key, value, keyPair, ttlMs, seq } = publication
      this.put(namespace, key, value, { keyPair, ttlMs, seq }, now)
    }
  }

  #start(
    command: CommandCode,
    target: Uint8Array,
    body: RequestBody,
    seeds: TableEntry[],
    now: number,
    hooks: {
      onStart?: (query: Query) => void
      onReply?: (query: Query, entry: TableEntry, response: Message, now: number) => void
      onDone: Query['onDone']
      /** Whether a lookup that reached no server starts again through the seeds (§6.3). */
      retry: boolean
    },
    k = K,
  ): number {
    const fresh = () => {
      const lookup = new Lookup(target, { ...this.#host.lookupOptions(), k })
      const closest = this.#host.closestEntries(target, K)
      const fallback = closest.length === 0 && hooks.retry ? this.#host.seeds : []
      for (const entry of [...closest, ...fallback, ...seeds]) lookup.add(entry)
      return lookup
    }
    const query: Query = {
      id: this.#nextId++,
      lookup: fresh(),
      fresh,
      command,
      body,
      onReply: () => {},
      onDone: hooks.onDone,
      extra: -1,
      retries: hooks.retry ? this.#host.limits.queryRetries : 0,
    }
    const onReply = hooks.onReply
    if (onReply !== undefined) query.onReply = (entry, response, at) => onReply(query, entry, response, at)
    this.#queries.set(query.id, query)
    hooks.onStart?.(query)
    this.#pump(query, now)
    return query.id
  }

  /** Sends what the lookup allows; finishes the query once it converged. */
  #pump(query: Query, now: number): void {
    if (!this.#queries.has(query.id)) return
    for (let batch = query.lookup.next(); batch.length > 0; batch = query.lookup.next()) {
      for (const entry of batch) if (!this.#ask(query, entry, now)) query.lookup.failed(entry.key)
    }
    if (!query.lookup.done() || query.extra > 0 || this.#extend(query, now)) return
    this.#queries.delete(query.id)
    if (query.lookup.closest().length === 0 && this.#again(query, now)) return
    query.onDone(query, now)
  }

  /**
   * Schedules `query` to start again when it has retries left and seeds to go through: a lookup every
   * request of which was lost (all retransmissions too) on a lossy link, or a PUT no node stored. After
   * `joinBackoffMs`, doubling (§6.3). False when it is not retried.
   */
  #again(query: Query, now: number): boolean {
    if (query.retries === 0 || this.#host.seeds.length === 0) return false
    const attempt = this.#host.limits.queryRetries - query.retries--
    this.#retries.push({ at: now + this.#host.limits.joinBackoffMs * 2 ** attempt, query })
    return true
  }

  /**
   * Responders return their k closest, dead ones included, so after churn the live nodes ranked just
   * beyond them may be named by nobody. A converged lookup that met dead nodes asks its
   * {@link SECOND_PAGES} closest repliers that returned a full page for their next k (`sk`) before
   * finishing. True when it sent something.
   */
  #extend(query: Query, now: number): boolean {
    if (query.extra === 0 || query.lookup.failures === 0) return false
    query.extra = 0
    for (const entry of query.lookup.truncated().slice(0, SECOND_PAGES)) {
      const settle = (closer: TableEntry[], at: number) => {
        query.extra--
        for (const candidate of closer) query.lookup.add(candidate)
        this.#pump(query, at)
      }
      const sent = this.#host.request(
        entry,
        query.command,
        { ...query.body, sk: K },
        {
          onReply: (_response, _server, at, closer) => settle(closer, at),
          onFail: (at) => settle([], at),
          known: (key) => query.lookup.entry(key),
        },
        now,
      )
      if (sent) query.extra++
    }
    return query.extra > 0
  }

  #ask(query: Query, entry: TableEntry, now: number): boolean {
    const active = () => this.#queries.has(query.id)
    return this.#host.request(
      entry,
      query.command,
      query.body,
      {
        onReply: (response, server, at, closer) => {
          if (!active()) return
          query.onReply(entry, response, at)
          query.lookup.replied(entry.key, server, closer)
          this.#pump(query, at)
        },
        onStall: (at) => {
          query.lookup.stalled(entry.key)
          this.#pump(query, at)
        },
        onFail: (at) => {
          query.lookup.failed(entry.key)
          this.#pump(query, at)
        },
        known: (key) => query.lookup.entry(key),
      },
      now,
    )
  }

  #emitDone(query: Query): void {
    const closest = query.lookup.closest().map(({ id, host, port }) => ({ id, host, port }))
    this.#host.emit({ type: 'queryDone', query: query.id, closest })
  }

  /** Verifies records of a GET reply (readers never trust storing nodes) and asks for the next page. */
  #onRecords(
    query: Query,
    entry: TableEntry | null,
    response: Message,
    seen: Set<string>,
    now: number,
  ): void {
    const { ns, k, pk } = query.body
    const fresh: DhtRecord[] = []
    for (const record of response.rs ?? []) {
      const id = `${toHex(record.p)}:${record.s}:${toHex(record.g)}`
      if (seen.has(id) || seen.size >= 4 * this.#host.limits.recordsPerKey) continue
      seen.add(id)
      if (this.#acceptable(ns!, k!, record, pk, now)) fresh.push(toDhtRecord(ns!, k!, record))
    }
    if (fresh.length > 0 && this.#queries.has(query.id))
      this.#host.emit({ type: 'records', query: query.id, records: fresh })
    if (entry !== null && response.m === true && (response.rs?.length ?? 0) > 0)
      this.#nextPage(query, entry, response, seen, now)
  }

  #acceptable(
    ns: string,
    key: Uint8Array,
    record: WireRecord,
    pk: Uint8Array | undefined,
    now: number,
  ): boolean {
    if (pk !== undefined && toHex(pk) !== toHex(record.p)) return false
    return record.x > now - this.#host.limits.clockSkewMs && verifyRecord(ns, key, record)
  }

  #nextPage(query: Query, entry: TableEntry, response: Message, seen: Set<string>, now: number): void {
    const offset = (query.body.o ?? 0) + (response.rs?.length ?? 0)
    if (offset >= this.#host.limits.recordsPerKey) return
    const page: Query = { ...query, body: { ...query.body, o: offset } }
    this.#host.request(
      entry,
      Command.GET,
      page.body,
      {
        onReply: (reply, _server, at) => {
          if (this.#queries.has(query.id)) this.#onRecords(page, entry, reply, seen, at)
        },
        onFail: () => {},
      },
      now,
    )
  }

  /**
   * Sends the PUT to every converged node that gave us a token; emits `putDone` when all answered,
   * counting our own copy if `kept` (§7.5). Retried while no other node stored it.
   */
  #store(query: Query, body: RequestBody, tokens: Map<string, Uint8Array>, kept: boolean, now: number) {
    const targets = query.lookup.closest().filter((entry) => tokens.has(entry.key))
    let pending = targets.length
    let stored = 0
    const finish = (at: number) => {
      if (stored === 0 && this.#again(query, at)) return
      this.#host.emit({ type: 'putDone', query: query.id, stored: stored + (kept ? 1 : 0) })
    }
    const settle = (ok: boolean, at: number) => {
      stored += ok ? 1 : 0
      if (--pending === 0) finish(at)
    }
    if (pending === 0) finish(now)
    for (const entry of targets) {
      const sent = this.#host.request(
        entry,
        Command.PUT,
        { ...body, tk: tokens.get(entry.key)! },
        {
          onReply: (reply, _server, at) => settle((reply.e ?? WireError.OK) === WireError.OK, at),
          onFail: (at) => settle(false, at),
        },
        now,
      )
      if (!sent) settle(false, now)
    }
  }
}
