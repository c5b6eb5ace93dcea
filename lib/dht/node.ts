import dgram from 'node:dgram'
import { lookup } from 'node:dns/promises'
import { isIP } from 'node:net'
import { networkInterfaces } from 'node:os'
import type { Ed25519KeyPair } from '../crypto/index.js'
import {
  type Address,
  addressKey,
  canonicalHost,
  decodeAddress,
  type Family,
  familyOf,
  type Grouping,
  isLoopback,
} from './address.js'
import { EventChannel } from './channel.js'
import type { DhtLimits } from './constants.js'
import { DhtCore, type DhtCounters } from './core.js'
import { DhtError } from './errors.js'
import type { DhtEvent } from './events.js'
import { decodeMessage } from './messages.js'
import { assertPublishable, type DhtRecord } from './record.js'
import { type Contact, loadTable, type SavedTable } from './routing.js'

/** Options of {@link DhtNode.create} (`spec/dht.md` §11). */
export interface DhtNodeOptions {
  /**
   * IPv4 (or IPv6) address to bind. Default `0.0.0.0`, plus `::` on the same port (see `host6`): the
   * production setting. Tests and the demo pass `127.0.0.1` or `::1`.
   */
  host?: string
  /** IPv6 address to bind besides `host`; default `::` when `host` is `0.0.0.0`, else none; null: none. */
  host6?: string | null
  /** UDP port; 0 (default) picks one. */
  port?: number
  /** `host:port` (IP literal or name) of nodes to join through; empty for the first node of a network. */
  bootstrap?: string[]
  /** A table saved from {@link DhtNode.exportRoutingTable}; validated on load (`DHT_BAD_TABLE`). */
  routingTable?: SavedTable
  /**
   * `server` enters others' tables, `client` never does, `auto` (default for wildcard binds) becomes a
   * server once the voted external address is a local interface address. Default for a specific host:
   * `server` at the bound address.
   */
  mode?: 'server' | 'client' | 'auto'
  /** Address grouping for limits: default `endpoint` on loopback (all nodes share 127.0.0.1), else `subnet`. */
  grouping?: Grouping
  limits?: Partial<DhtLimits>
  /** Keep our own records in our own store too (§7.5), for peers LAN discovery may find later. */
  keepOwnRecords?: boolean
}

/** A publication that republishes at TTL/2 until withdrawn (`spec/dht.md` §7.4). */
export interface Publication {
  /** The first PUT's outcome. */
  readonly stored: Promise<{ stored: number }>
  /** Stops republishing and stores a signed delete (tombstone) in place of the record. */
  withdraw(): Promise<void>
}

/**
 * Handler for datagrams that are not DHT messages (STUN shares the port, `spec/dht.md` §3.4); `local`
 * is the address of the socket it arrived on (a wildcard one on a multi-homed server, §11.1).
 */
export type ForeignDatagramHandler = (
  data: Uint8Array,
  from: Address,
  reply: (data: Uint8Array) => void,
  local: Address,
) => void

/** Addresses a multi-homed server binds on demand, learnt from requests' `to` (§11.1); beyond, dropped. */
const MAX_LEARNT_ADDRESSES = 16

interface Binding {
  family: Family
  socket: dgram.Socket
  core: DhtCore
  timer: NodeJS.Timeout | null
  /** Per query: its event handler and how to fail it on close. */
  handlers: Map<number, { onEvent: (event: DhtEvent) => void; reject: (error: DhtError) => void }>
  bootstrapped: Promise<void>
  /** Settles {@link bootstrapped} on the core's `bootstrapped` event. */
  onBootstrapped: (joined: boolean) => void
}

/** A query started on one family: its id and when it ends. */
interface Run {
  query: number
  done: Promise<void>
}

/**
 * A DHT node on UDP sockets: the adapter around {@link DhtCore} (one core per IP family, as BEP 32
 * runs one DHT per family). It owns the sockets and the clock; everything else is the core's.
 */
export class DhtNode {
  readonly #bindings: Binding[]
  /** A multi-homed server's wildcard sockets: they catch requests to addresses not bound yet (§11.1). */
  readonly #wildcards: dgram.Socket[] = []
  /** Addresses learnt from requests that arrived on a wildcard socket, bound or found not bindable. */
  readonly #learnt = new Map<string, Promise<Binding | null>>()
  #foreign: ForeignDatagramHandler | null = null
  #closed = false

  private constructor(bindings: Binding[]) {
    this.#bindings = bindings
  }

  /** Binds the socket(s), starts joining through `bootstrap`, resolves once bound. */
  static async create(options: DhtNodeOptions = {}): Promise<DhtNode> {
    const host = canonicalHost(options.host ?? '0.0.0.0')
    const host6 = options.host6 === undefined ? (host === '0.0.0.0' ? '::' : null) : options.host6
    // Validate before binding: a bad saved table must not leave a socket open.
    if (options.routingTable !== undefined) loadTable(options.routingTable)
    const bootstrap = await resolveBootstrap(options.bootstrap ?? [])
    if (options.mode === 'server' && isWildcard(host))
      return DhtNode.#multiHomed({ ...options, bootstrap: [] }, bootstrap, host6)
    const first = await bindSocket(host, options.port ?? 0)
    const sockets: (dgram.Socket | null)[] = [first]
    if (host6 !== null) sockets.push(await bindSocket(host6, first.address().port).catch(() => null))
    const node = new DhtNode([])
    for (const socket of sockets) if (socket !== null) node.#attach(socket, options, bootstrap)
    return node
  }

  /**
   * A server on a wildcard host (`pairctl bootstrap` without `--host`, §11.1): one socket and one
   * server core per interface address, so each reply leaves from the address its request was sent to
   * and carries that address's id, plus the wildcard sockets on the same port, which catch requests to
   * local addresses not listed as interface addresses (127.0.0.2 on `lo`) and bind those on demand.
   */
  static async #multiHomed(options: DhtNodeOptions, bootstrap: Address[], host6: string | null) {
    const node = new DhtNode([])
    const wildcards = [await bindSocket('0.0.0.0', options.port ?? 0, true)]
    const port = wildcards[0]!.address().port
    if (host6 !== null) {
      const socket = await bindSocket('::', port, true).catch(() => null)
      if (socket !== null) wildcards.push(socket)
    }
    node.#wildcards.push(...wildcards)
    try {
      for (const socket of wildcards) {
        const family = familyOf(canonicalHost(socket.address().address))
        for (const address of localAddresses(family, port).filter(bindable)) {
          const bound = await bindSocket(address.host, port, true).catch(() => null)
          if (bound !== null) node.#attach(bound, options, bootstrap)
        }
        socket.on('message', (data, rinfo) => node.#onWildcard(socket, data, rinfo, options, bootstrap))
        socket.on('error', () => {})
      }
    } catch (err) {
      await node.close()
      throw err
    }
    if (node.#bindings.length === 0) {
      await node.close()
      throw DhtError.bindFailed(new Error('no interface address could be bound'))
    }
    return node
  }

  /** Every address a server core is bound to (one on a specific host; each interface's when multi-homed). */
  addresses(): Address[] {
    return this.#bindings.map(({ socket }) => ({
      host: canonicalHost(socket.address().address),
      port: socket.address().port,
    }))
  }

  /** Our node id (of the first socket's DHT): address-bound for a server, random for a client. */
  get id(): Uint8Array {
    return this.#bindings[0]!.core.id
  }

  /**
   * Resolves when every family's join lookup converged (at once for the first node of a network);
   * rejects with `DHT_BOOTSTRAP_FAILED` when bootstrap endpoints were given and none answered, after
   * retries over about 25 s (`spec/dht.md` §9). The node keeps running and rejoins through them.
   */
  get bootstrapped(): Promise<void> {
    return Promise.all(this.#bindings.map((binding) => binding.bootstrapped)).then(() => {})
  }

  /** Same as {@link bootstrapped}. */
  ready(): Promise<void> {
    return this.bootstrapped
  }

  /** The bound address of the first socket. */
  address(): Address {
    const { address, port } = this.#bindings[0]!.socket.address()
    return { host: address, port }
  }

  /** Our external address by majority vote of responders (`spec/dht.md` §4.3), or null. */
  externalAddress(): Address | null {
    return this.#bindings[0]!.core.externalAddress()
  }

  /**
   * Signs and stores a record on the k closest nodes of each family. Resolves with how many stored it;
   * rejects `DHT_NOT_STORED` when none did, `DHT_BAD_ARGUMENT` on a bad namespace/key/value/TTL.
   */
  async put(
    namespace: string,
    key: Uint8Array,
    value: Uint8Array,
    options: { keyPair: Ed25519KeyPair; ttlMs: number; seq?: number; signal?: AbortSignal },
  ): Promise<{ stored: number }> {
    assertPublishable(namespace, key, value, options.ttlMs, options.keyPair.publicKey)
    const { keyPair, ttlMs, seq } = options
    return this.#storeEverywhere(options.signal, (core, now) =>
      core.put(namespace, key, value, { keyPair, ttlMs, ...(seq === undefined ? {} : { seq }) }, now),
    )
  }

  /** Stores now and republishes every TTL/2 until `withdraw()` (which stores a signed delete). */
  publish(
    namespace: string,
    key: Uint8Array,
    value: Uint8Array,
    options: { keyPair: Ed25519KeyPair; ttlMs: number },
  ): Publication {
    assertPublishable(namespace, key, value, options.ttlMs, options.keyPair.publicKey)
    this.#assertOpen()
    const ids = new Map<Binding, number>()
    const stored = this.#storeEverywhere(undefined, (core, now, binding) => {
      const { publication, query } = core.publish(namespace, key, value, options, now)
      ids.set(binding, publication)
      return query
    })
    stored.catch(() => {})
    let withdrawn: Promise<void> | null = null
    const withdraw = () => {
      withdrawn ??= this.#storeEverywhere(undefined, (core, now, binding) =>
        core.withdraw(ids.get(binding)!, now),
      ).then(() => {})
      return withdrawn
    }
    return { stored, withdraw }
  }

  /**
   * Verified records at (namespace, key), streamed as found (optionally of one publisher). Stop early
   * with `break` (e.g. at the first valid record) or the signal; both cancel the lookup.
   */
  get(namespace: string, key: Uint8Array, options: { signal?: AbortSignal; publicKey?: Uint8Array } = {}) {
    return this.#stream<DhtRecord>(options.signal, (binding, channel, now) => {
      const query = binding.core.get(namespace, key, now, options.publicKey)
      return this.#route(binding, query, (event) => {
        if (event.type === 'records') for (const record of event.records) channel.push(record)
      })
    })
  }

  /** The k closest server nodes to `target` that replied, closest first, per family. */
  findNode(target: Uint8Array, options: { signal?: AbortSignal } = {}): AsyncIterableIterator<Contact> {
    return this.#stream<Contact>(options.signal, (binding, channel, now) => {
      const query = binding.core.findNode(target, now)
      return this.#route(binding, query, (event) => {
        if (event.type === 'queryDone') for (const contact of event.closest) channel.push(contact)
      })
    })
  }

  /**
   * A node LAN discovery found on our link (`spec/dht.md` §9.1): pinged, added when it answers as a
   * server, and joined through; its view of us may make this node a server at its interface address.
   */
  addLinkPeer(address: Address): void {
    if (this.#closed) return
    const family = familyOf(canonicalHost(address.host))
    for (const binding of this.#bindings.filter((b) => b.family === family)) {
      binding.core.addLinkPeer({ host: canonicalHost(address.host), port: address.port }, Date.now())
      this.#drive(binding)
    }
  }

  /** The routing table (first family) for the node layer to save; ids are derived, so endpoints only. */
  exportRoutingTable(): SavedTable {
    return this.#bindings[0]!.core.exportRoutingTable()
  }

  /** Counters (summed over families), table size and store size (`spec/dht.md` §8.5). */
  stats(): DhtCounters & { tableSize: number; records: number; recordBytes: number } {
    const total = { tableSize: 0, records: 0, recordBytes: 0 } as DhtCounters & {
      tableSize: number
      records: number
      recordBytes: number
    }
    for (const { core } of this.#bindings) {
      for (const [name, value] of Object.entries(core.counters) as [keyof DhtCounters, number][])
        total[name] =
          name === 'largestDatagramOut' ? Math.max(total[name] ?? 0, value) : (total[name] ?? 0) + value
      total.tableSize += core.tableSize
      total.records += core.storeStats().records
      total.recordBytes += core.storeStats().bytes
    }
    return total
  }

  /**
   * Receives datagrams that are not DHT messages on the same socket(s), with a `reply` to answer from
   * the same port. A DHT datagram is a CBOR map (first byte 0xa0-0xbf); a STUN message starts with two
   * zero bits (first byte < 0x40) and carries the magic cookie 0x2112A442 at bytes 4-8 (`spec/dht.md` §3.4).
   * Such datagrams share their source's request rate limit with DHT requests (§8.2); those over it are
   * dropped before the handler sees them.
   */
  onForeignDatagram(handler: ForeignDatagramHandler): void {
    this.#foreign = handler
  }

  /** Stops every timer, closes the sockets; pending operations reject with `DHT_CLOSED`. */
  async close(): Promise<void> {
    if (this.#closed) return
    this.#closed = true
    for (const binding of this.#bindings) {
      if (binding.timer !== null) clearTimeout(binding.timer)
      for (const handler of binding.handlers.values()) handler.reject(DhtError.closed())
      binding.handlers.clear()
    }
    await Promise.all(this.#learnt.values())
    const sockets = [...this.#bindings.map(({ socket }) => socket), ...this.#wildcards]
    await Promise.all(sockets.map((socket) => new Promise<void>((resolve) => socket.close(() => resolve()))))
  }

  /**
   * A datagram on a multi-homed server's wildcard socket: addressed to a local address that has no
   * socket of its own. A DHT request names that address in `to`; it is bound (at most
   * {@link MAX_LEARNT_ADDRESSES}) and its new core answers, from it. STUN and anything unbindable (a
   * claimed address that is not ours) are answered from the wildcard socket or dropped.
   */
  #onWildcard(
    socket: dgram.Socket,
    data: Buffer,
    rinfo: dgram.RemoteInfo,
    options: DhtNodeOptions,
    bootstrap: Address[],
  ): void {
    if (this.#closed) return
    const bytes = new Uint8Array(data.buffer, data.byteOffset, data.byteLength)
    const from = { host: canonicalHost(rinfo.address), port: rinfo.port }
    const local = { host: canonicalHost(socket.address().address), port: socket.address().port }
    if (this.#foreign !== null && (bytes[0] ?? 0) < 0x40) {
      const core = (this.#bindings.find((b) => b.family === familyOf(local.host)) ?? this.#bindings[0])?.core
      if (core?.admitForeign(from, Date.now()) === true)
        this.#foreign(bytes, from, (reply) => socket.send(reply, from.port, from.host), local)
      return
    }
    const to = this.#claimedLocal(bytes, local)
    if (to === null) return
    this.#learn(to, options, bootstrap).then((binding) => {
      if (binding === null || this.#closed) return
      binding.core.receive(bytes, from, Date.now())
      this.#drive(binding)
    })
  }

  /** The `to` of a request that arrived on the wildcard socket at `local`, if it could be ours to bind. */
  #claimedLocal(bytes: Uint8Array, local: Address): Address | null {
    const message = decodeMessage(bytes)
    const to = message?.y === 0 ? decodeAddress(message.to) : null
    if (to === null || to.port !== local.port || familyOf(to.host) !== familyOf(local.host)) return null
    if (!bindable(to)) return null
    const bound = this.#bindings.find((binding) => addressKey(this.#boundOf(binding)) === addressKey(to))
    if (bound !== undefined) return null
    return this.#learnt.has(addressKey(to)) || this.#learnt.size < MAX_LEARNT_ADDRESSES ? to : null
  }

  /** Binds `to` once (concurrent requests wait for the same bind); null when it is not a local address. */
  #learn(to: Address, options: DhtNodeOptions, bootstrap: Address[]): Promise<Binding | null> {
    const key = addressKey(to)
    let learning = this.#learnt.get(key)
    if (learning === undefined) {
      learning = bindSocket(to.host, to.port, true).then(
        (socket) => {
          if (this.#closed) {
            socket.close()
            return null
          }
          return this.#attach(socket, options, bootstrap)
        },
        () => null,
      )
      this.#learnt.set(key, learning)
    }
    return learning
  }

  #boundOf(binding: Binding): Address {
    return { host: canonicalHost(binding.socket.address().address), port: binding.socket.address().port }
  }

  #attach(socket: dgram.Socket, options: DhtNodeOptions, bootstrap: Address[]): Binding {
    const bound = { host: canonicalHost(socket.address().address), port: socket.address().port }
    const family = familyOf(bound.host)
    const wildcard = bound.host === '0.0.0.0' || bound.host === '::'
    const core = new DhtCore({
      family,
      mode: options.mode ?? (wildcard ? 'auto' : 'server'),
      ...(wildcard ? { localAddresses: localAddresses(family, bound.port) } : { address: bound }),
      bootstrap: bootstrap.filter((address) => familyOf(address.host) === family),
      ...(options.routingTable === undefined || family !== this.#familyOfFirst(family)
        ? {}
        : { routingTable: options.routingTable }),
      grouping: options.grouping ?? (isLoopback(bound.host) ? 'endpoint' : 'subnet'),
      ...(options.limits === undefined ? {} : { limits: options.limits }),
      keepOwnRecords: options.keepOwnRecords ?? false,
      now: Date.now(),
    })
    let onBootstrapped = (_joined: boolean) => {}
    const bootstrapped = new Promise<void>((resolve, reject) => {
      onBootstrapped = (joined) => (joined ? resolve() : reject(DhtError.bootstrapFailed()))
    })
    // Nobody may be waiting for the join: a failure is reported through ready(), not as unhandled.
    bootstrapped.catch(() => {})
    const binding: Binding = {
      family,
      socket,
      core,
      timer: null,
      handlers: new Map(),
      bootstrapped,
      onBootstrapped,
    }
    socket.on('message', (data, rinfo) => this.#onMessage(binding, data, rinfo))
    socket.on('error', () => {})
    this.#bindings.push(binding)
    this.#drive(binding)
    return binding
  }

  /** The saved table is of the first family bound: only that family's core loads it. */
  #familyOfFirst(family: Family): Family {
    return this.#bindings[0]?.family ?? family
  }

  #onMessage(binding: Binding, data: Buffer, rinfo: dgram.RemoteInfo): void {
    if (this.#closed) return
    const bytes = new Uint8Array(data.buffer, data.byteOffset, data.byteLength)
    const from = { host: canonicalHost(rinfo.address), port: rinfo.port }
    if (this.#foreign !== null && (bytes[0] ?? 0) < 0x40) {
      const reply = (answer: Uint8Array) => binding.socket.send(answer, from.port, from.host)
      if (binding.core.admitForeign(from, Date.now()))
        this.#foreign(bytes, from, reply, this.#boundOf(binding))
      return
    }
    binding.core.receive(bytes, from, Date.now())
    this.#drive(binding)
  }

  /** Sends what the core produced, dispatches its events, re-arms its one timer. */
  #drive(binding: Binding): void {
    if (this.#closed) return
    const { core, socket } = binding
    for (let out = core.pollTransmit(); out !== null; out = core.pollTransmit())
      socket.send(out.data, out.to.port, out.to.host)
    for (let event = core.nextEvent(); event !== null; event = core.nextEvent())
      this.#dispatch(binding, event)
    if (binding.timer !== null) clearTimeout(binding.timer)
    const at = core.pollTimeout()
    binding.timer =
      at === null
        ? null
        : setTimeout(() => this.#onTimer(binding), Math.min(0x7fffffff, Math.max(0, at - Date.now())))
  }

  #onTimer(binding: Binding): void {
    binding.timer = null
    if (this.#closed) return
    binding.core.handleTimeout(Date.now())
    this.#drive(binding)
  }

  #dispatch(binding: Binding, event: DhtEvent): void {
    if (event.type === 'bootstrapped') binding.onBootstrapped(event.joined)
    else binding.handlers.get(event.query)?.onEvent(event)
  }

  /** Registers `onEvent` for `query`; the run ends (and the handler goes) with its final event. */
  #route(binding: Binding, query: number, onEvent: (event: DhtEvent) => void): Run {
    const done = new Promise<void>((resolve, reject) => {
      const handler = (event: DhtEvent) => {
        onEvent(event)
        if (event.type === 'queryDone' || event.type === 'putDone') {
          binding.handlers.delete(query)
          resolve()
        }
      }
      binding.handlers.set(query, { onEvent: handler, reject })
    })
    return { query, done }
  }

  /** Runs one query per family into one channel; ends when all converge, or on abort/close. */
  #stream<T>(
    signal: AbortSignal | undefined,
    start: (binding: Binding, channel: EventChannel<T>, now: number) => Run,
  ): EventChannel<T> {
    const cancels: (() => void)[] = []
    const channel = new EventChannel<T>(() => {
      for (const cancel of cancels) cancel()
    })
    if (this.#closed) channel.end(DhtError.closed())
    else if (signal?.aborted) channel.end(DhtError.aborted(signal.reason))
    else this.#startAll(channel, signal, cancels, start)
    return channel
  }

  #startAll<T>(
    channel: EventChannel<T>,
    signal: AbortSignal | undefined,
    cancels: (() => void)[],
    start: (binding: Binding, channel: EventChannel<T>, now: number) => Run,
  ): void {
    const runs = this.#bindings.map((binding) => {
      const run = start(binding, channel, Date.now())
      cancels.push(() => this.#cancel(binding, run.query))
      this.#drive(binding)
      return run.done
    })
    const onAbort = () => {
      for (const cancel of cancels) cancel()
      channel.end(DhtError.aborted(signal?.reason))
    }
    signal?.addEventListener('abort', onAbort, { once: true })
    Promise.all(runs).then(
      () => channel.end(),
      (error: unknown) => channel.end(error),
    )
    Promise.all(runs)
      .finally(() => signal?.removeEventListener('abort', onAbort))
      .catch(() => {})
  }

  #cancel(binding: Binding, query: number): void {
    binding.core.cancel(query)
    binding.handlers.delete(query)
  }

  /** Starts a store on every family and sums the accepted copies. */
  async #storeEverywhere(
    signal: AbortSignal | undefined,
    start: (core: DhtCore, now: number, binding: Binding) => number | null,
  ): Promise<{ stored: number }> {
    this.#assertOpen()
    if (signal?.aborted) throw DhtError.aborted(signal.reason)
    let stored = 0
    const runs = this.#bindings.map((binding) => {
      const query = start(binding.core, Date.now(), binding)
      if (query === null) return Promise.resolve()
      const run = this.#route(binding, query, (event) => {
        if (event.type === 'putDone') stored += event.stored
      })
      this.#drive(binding)
      return run.done
    })
    await abortable(Promise.all(runs), signal)
    if (stored === 0) throw DhtError.notStored()
    return { stored }
  }

  #assertOpen(): void {
    if (this.#closed) throw DhtError.closed()
  }
}

function abortable<T>(promise: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (signal === undefined) return promise
  return new Promise((resolve, reject) => {
    const onAbort = () => reject(DhtError.aborted(signal.reason))
    signal.addEventListener('abort', onAbort, { once: true })
    promise.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort))
  })
}

/**
 * `reuseAddr` lets a multi-homed server bind the wildcard and each address on one port; Linux delivers
 * each datagram to the most specific socket (§11.1).
 */
function bindSocket(host: string, port: number, reuseAddr = false): Promise<dgram.Socket> {
  // ipv6Only: the IPv4 DHT has its own socket, so the IPv6 one must not take v4-mapped traffic.
  const socket = dgram.createSocket(
    familyOf(host) === 6 ? { type: 'udp6', ipv6Only: true, reuseAddr } : { type: 'udp4', reuseAddr },
  )
  return new Promise((resolve, reject) => {
    socket.once('error', (error) => {
      socket.close()
      reject(DhtError.bindFailed(error))
    })
    socket.bind(port, host, () => {
      socket.removeAllListeners('error')
      resolve(socket)
    })
  })
}

/** Parses `host:port` entries; names are resolved (IPv4 first), unusable entries are skipped. */
async function resolveBootstrap(entries: string[]): Promise<Address[]> {
  const out: Address[] = []
  for (const entry of entries) {
    const match = /^\[?([^\]]+?)\]?:(\d+)$/.exec(entry)
    const port = Number(match?.[2])
    if (match === null || !(port > 0 && port < 65536))
      throw DhtError.badArgument(`bad bootstrap entry '${entry}'`)
    const host = isIP(match[1]!) ? match[1]! : await lookup(match[1]!).then((result) => result.address)
    out.push({ host: canonicalHost(host), port })
  }
  return out
}

/** Our interface addresses of `family` on `port`: where `auto` mode recognises "no NAT in between". */
function localAddresses(family: Family, port: number): Address[] {
  return Object.values(networkInterfaces())
    .flat()
    .filter((info) => info !== undefined && (info.family === 'IPv4' ? 4 : 6) === family)
    .map((info) => ({ host: canonicalHost(info!.address), port }))
}

function isWildcard(host: string): boolean {
  return host === '0.0.0.0' || host === '::'
}

/** Addresses a multi-homed server binds: not wildcards, not IPv6 link-local ones (they need a scope id). */
function bindable(address: Address): boolean {
  return !isWildcard(address.host) && !/^fe[89ab]/i.test(address.host)
}
