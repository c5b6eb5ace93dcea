/**
 * The address book's adapter (`spec/addresses.md` §5): polls `os.networkInterfaces()` on an
 * interval, arms the expiry timer, and emits `change` events. The interface source and clock are
 * injectable so tests drive it without touching the host's network.
 * @module
 */
import { EventEmitter } from 'node:events'
import { networkInterfaces } from 'node:os'
import {
  type Address,
  AddressBook,
  type AddressCandidate,
  type AddressEvent,
  type BoundPorts,
  type InterfaceList,
} from './book.js'
import { DEFAULT_INTERFACE_POLL_MS } from './constants.js'

/** Options of {@link AddressManager}. */
export interface AddressManagerOptions {
  /** The ports this node really listens on. */
  ports: BoundPorts
  /** Interface source (default `os.networkInterfaces`). */
  networkInterfaces?: () => InterfaceList
  /** How often to poll interfaces, ms (default 10 000). */
  pollIntervalMs?: number
  /** Clock for expiries, ms (default `Date.now`). */
  now?: () => number
}

/** Emits `change` with each {@link AddressEvent}. Call {@link start} then {@link stop}. */
export class AddressManager extends EventEmitter<{ change: [AddressEvent] }> {
  readonly book: AddressBook
  readonly #interfaces: () => InterfaceList
  readonly #pollMs: number
  readonly #now: () => number
  #poll: NodeJS.Timeout | undefined
  #expiry: NodeJS.Timeout | undefined

  constructor(options: AddressManagerOptions) {
    super()
    this.book = new AddressBook(options.ports)
    this.#interfaces = options.networkInterfaces ?? networkInterfaces
    this.#pollMs = options.pollIntervalMs ?? DEFAULT_INTERFACE_POLL_MS
    this.#now = options.now ?? Date.now
  }

  /** Reads the interfaces now and starts polling (the timer does not keep the process alive). */
  start(): this {
    this.refresh()
    this.#poll ??= setInterval(() => this.refresh(), this.#pollMs).unref()
    return this
  }

  /** Stops every timer. */
  stop(): void {
    clearInterval(this.#poll)
    clearTimeout(this.#expiry)
    this.#poll = undefined
    this.#expiry = undefined
  }

  /** Re-reads the interface list (also called on each poll). */
  refresh(): void {
    this.book.updateInterfaces(this.#interfaces())
    this.#flush()
  }

  /** Adds a STUN-mapped, port-mapped or observed candidate (see {@link AddressBook.add}). */
  add(candidate: AddressCandidate): void {
    this.book.add(candidate)
    this.#flush()
  }

  /** Withdraws a source's claim (see {@link AddressBook.remove}). */
  remove(candidate: Omit<AddressCandidate, 'expiresAt'>): void {
    this.book.remove(candidate)
    this.#flush()
  }

  /** All addresses with their sources (for `status`). */
  list(): Address[] {
    return this.book.list()
  }

  /** What to offer a peer seen at `peerHost`. */
  forPeer(peerHost: string): Address[] {
    return this.book.forPeer(peerHost)
  }

  /** What to put into a DHT advertisement. */
  advertisable(): Address[] {
    return this.book.advertisable()
  }

  /** Emits queued events and re-arms the expiry timer. */
  #flush(): void {
    for (let event = this.book.nextEvent(); event; event = this.book.nextEvent()) this.emit('change', event)
    clearTimeout(this.#expiry)
    const at = this.book.pollTimeout()
    if (at === null || this.#poll === undefined) return
    this.#expiry = setTimeout(() => this.#expire(), Math.max(0, at - this.#now())).unref()
  }

  #expire(): void {
    this.book.handleTimeout(this.#now())
    this.#flush()
  }
}
