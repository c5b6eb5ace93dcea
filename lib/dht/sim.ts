import { type Address, addressKey } from './address.js'
import { DhtCore, type DhtCoreOptions } from './core.js'
import type { DhtEvent } from './events.js'

/** Link behaviour of a {@link MemoryNetwork}. */
export interface MemoryNetworkOptions {
  /** One-way latency range in ms, drawn uniformly per datagram. */
  latencyMs?: [number, number]
  /** Probability a datagram is lost. */
  loss?: number
  /** Seed of the network's PRNG (latency and loss draws). */
  seed?: number
  /** Virtual clock origin (ms since the epoch; records carry absolute expiries). */
  start?: number
}

/** One node of the simulation: its core, its endpoint and the events it emitted. */
export interface SimNode {
  core: DhtCore
  address: Address
  alive: boolean
  events: DhtEvent[]
  timerAt: number
}

interface Scheduled {
  at: number
  order: number
  run: () => void
}

/**
 * An in-memory UDP network with a virtual clock for simulations (`spec/dht.md` §11): cores exchange
 * datagrams through a priority queue of deliveries and timers, with latency, loss and node death,
 * deterministically for a given seed. Nothing here reads a real clock or opens a socket.
 */
export class MemoryNetwork {
  now: number
  readonly nodes: SimNode[] = []
  readonly #byAddress = new Map<string, SimNode>()
  readonly #queue: Scheduled[] = []
  readonly #latency: [number, number]
  readonly #loss: number
  #random: () => number
  #order = 0
  /** Datagrams and bytes carried, for measurements. */
  datagrams = 0
  bytes = 0
  /** Drops the datagrams it returns true for (a lost join request, a partition), besides `loss`. */
  drop: ((from: Address, to: Address) => boolean) | null = null

  constructor(options: MemoryNetworkOptions = {}) {
    this.now = options.start ?? 1_800_000_000_000
    this.#latency = options.latencyMs ?? [5, 25]
    this.#loss = options.loss ?? 0
    this.#random = mulberry32(options.seed ?? 1)
  }

  /** The endpoint of the i-th node: a distinct /24 each, so subnet grouping is exercised. */
  static addressOf(index: number): Address {
    return { host: `10.${(index >> 8) & 255}.${index & 255}.1`, port: 4000 + (index >> 16) }
  }

  /** Adds a server node at the next address; `bootstrap` defaults to the first node's endpoint. */
  addNode(options: Partial<DhtCoreOptions> = {}): SimNode {
    const address = MemoryNetwork.addressOf(this.nodes.length)
    const bootstrap = this.nodes.length === 0 ? [] : [this.nodes[0]!.address]
    const node: SimNode = {
      core: null as unknown as DhtCore,
      address,
      alive: true,
      events: [],
      timerAt: Infinity,
    }
    this.#byAddress.set(addressKey(address), node)
    this.nodes.push(node)
    const random = (length: number) => Uint8Array.from({ length }, () => Math.floor(this.#random() * 256))
    node.core = new DhtCore({
      family: 4,
      mode: 'server',
      address,
      bootstrap,
      now: this.now,
      random,
      ...options,
    })
    this.flush(node)
    return node
  }

  /** Kills a node silently: it stops answering and its datagrams vanish. */
  kill(node: SimNode): void {
    node.alive = false
  }

  /** Runs `action` on a node's core at the current time, then sends what it produced. */
  act<T>(node: SimNode, action: (core: DhtCore, now: number) => T): T {
    const result = action(node.core, this.now)
    this.flush(node)
    return result
  }

  /** Advances until `predicate` holds or `maxMs` of virtual time passed; true if it held. */
  runUntil(predicate: () => boolean, maxMs: number): boolean {
    const deadline = this.now + maxMs
    while (!predicate()) {
      const next = this.#pop()
      if (next === undefined || next.at > deadline) {
        if (next !== undefined) this.#push(next)
        this.now = Math.max(this.now, deadline)
        return predicate()
      }
      this.now = Math.max(this.now, next.at)
      next.run()
    }
    return true
  }

  /** Advances virtual time by `ms`, running everything due. */
  runFor(ms: number): void {
    this.runUntil(() => false, ms)
  }

  /** Drains a node's transmits into the network and its events into `node.events`; re-arms its timer. */
  flush(node: SimNode): void {
    for (let out = node.core.pollTransmit(this.now); out !== null; out = node.core.pollTransmit(this.now)) {
      this.#transmit(node, out.data, out.to)
    }
    for (let event = node.core.nextEvent(); event !== null; event = node.core.nextEvent())
      node.events.push(event)
    const at = node.core.pollTimeout()
    if (at !== null && at < node.timerAt) {
      node.timerAt = at
      this.#push({ at, order: this.#order++, run: () => this.#fire(node, at) })
    }
  }

  #fire(node: SimNode, at: number): void {
    if (node.timerAt !== at || !node.alive) return
    node.timerAt = Infinity
    node.core.handleTimeout(this.now)
    this.flush(node)
  }

  #transmit(from: SimNode, data: Uint8Array, to: Address): void {
    if (!from.alive) return
    this.datagrams++
    this.bytes += data.length
    const target = this.#byAddress.get(addressKey(to))
    if (target === undefined || this.drop?.(from.address, to) === true || this.#random() < this.#loss) return
    const [low, high] = this.#latency
    const at = this.now + low + this.#random() * (high - low)
    this.#push({
      at,
      order: this.#order++,
      run: () => {
        if (!target.alive) return
        target.core.receive(data, from.address, this.now)
        this.flush(target)
      },
    })
  }

  #push(item: Scheduled): void {
    const heap = this.#queue
    heap.push(item)
    for (let i = heap.length - 1; i > 0; ) {
      const parent = (i - 1) >> 1
      if (!before(heap[i]!, heap[parent]!)) break
      ;[heap[i], heap[parent]] = [heap[parent]!, heap[i]!]
      i = parent
    }
  }

  #pop(): Scheduled | undefined {
    const heap = this.#queue
    const top = heap[0]
    const last = heap.pop()
    if (heap.length === 0 || last === undefined) return top
    heap[0] = last
    for (let i = 0; ; ) {
      const left = 2 * i + 1
      const right = left + 1
      let smallest = i
      if (left < heap.length && before(heap[left]!, heap[smallest]!)) smallest = left
      if (right < heap.length && before(heap[right]!, heap[smallest]!)) smallest = right
      if (smallest === i) return top
      ;[heap[i], heap[smallest]] = [heap[smallest]!, heap[i]!]
      i = smallest
    }
  }
}

function before(a: Scheduled, b: Scheduled): boolean {
  return a.at < b.at || (a.at === b.at && a.order < b.order)
}

/** A small seeded PRNG (mulberry32) for reproducible latency and loss. */
function mulberry32(seed: number): () => number {
  let state = seed >>> 0
  return () => {
    state = (state + 0x6d2b79f5) >>> 0
    let t = state
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}
