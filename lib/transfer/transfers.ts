/**
 * File transfers between paired devices (`spec/transfer.md`): the sender and receiver sides over one
 * instance's {@link DeviceStreams}, with their state persisted in the instance directory.
 * @module
 */
import { EventEmitter } from 'node:events'
import { join } from 'node:path'
import createDebug from 'debug'
import type { Book, Entry, TransferInfo } from './book.js'
import { MAX_FINISHED_TRANSFERS } from './constants.js'
import type { DeviceStreams } from './device-streams.js'
import { TransferError } from './errors.js'
import { type ReceivePolicy, Receiver } from './receiver.js'
import { Sender } from './sender.js'
import { type TransferState, TransferStore } from './store.js'

const debug = createDebug('pairctl:transfer')

/** Options of {@link Transfers}. */
export interface TransfersOptions {
  /** The instance directory: state goes in its `transfers/`. */
  dir: string
  /** Where received files go; default `<dir>/downloads`. */
  downloads?: string
  /** `accept` (default): offers from paired devices start at once; `ask`: they wait in the inbox. */
  policy?: ReceivePolicy
  streams: DeviceStreams
  /** Finished transfers kept; default {@link MAX_FINISHED_TRANSFERS}. */
  keepFinished?: number
}

/** Events of {@link Transfers}. */
export interface TransfersEvents {
  /** A transfer changed: its state, or its progress (throttled). */
  changed: [TransferInfo]
  /** An offer arrived and its manifest checked out. */
  incoming: [TransferInfo]
}

/** The transfers of one instance. */
export class Transfers extends EventEmitter<TransfersEvents> implements Book {
  readonly entries = new Map<string, Entry>()
  readonly streams: DeviceStreams
  readonly store: TransferStore
  readonly sender: Sender
  readonly receiver: Receiver
  readonly #keepFinished: number
  /** State writes under way, which {@link close} waits for. */
  readonly #writes = new Set<Promise<void>>()
  #closed = false

  constructor(options: TransfersOptions) {
    super()
    this.streams = options.streams
    this.#keepFinished = options.keepFinished ?? MAX_FINISHED_TRANSFERS
    this.store = new TransferStore(options.dir)
    this.sender = new Sender(this)
    this.receiver = new Receiver(this, {
      downloads: options.downloads ?? join(options.dir, 'downloads'),
      policy: options.policy ?? 'accept',
      onIncoming: (entry) => this.emit('incoming', entry.info()),
    })
    options.streams.on('linked', (deviceId) => {
      this.sender.linked(deviceId)
      this.receiver.linked(deviceId)
    })
  }

  /** Loads the persisted transfers (unfinished ones resume when their device links). */
  async load(): Promise<void> {
    for (const record of await this.store.load()) {
      const side = record.direction === 'send' ? this.sender : this.receiver
      const entry = await side.restore(record).catch(() => null)
      if (entry !== null) this.entries.set(record.id, entry)
    }
    await this.#settle()
  }

  /** The directory received files go to. */
  get downloads(): string {
    return this.receiver.downloads
  }

  /** Offers `paths` to `deviceId`; resolves once hashed and persisted (it is sent when linked). */
  async send(deviceId: string, paths: readonly string[]): Promise<TransferInfo> {
    return (await this.sender.offer(deviceId, paths)).info()
  }

  /** Every transfer, oldest first. */
  list(): TransferInfo[] {
    return [...this.entries.values()].map((entry) => entry.info())
  }

  /** The transfer `id` (or a unique prefix of it); `TRANSFER_NOT_FOUND` otherwise. */
  find(id: string): Entry {
    const exact = this.entries.get(id)
    if (exact !== undefined) return exact
    const matches = [...this.entries.values()].filter((entry) => id.length >= 4 && entry.id.startsWith(id))
    if (matches.length !== 1) throw TransferError.notFound(id)
    return matches[0]!
  }

  /** Events of one transfer from now until its final state. */
  follow(id: string): AsyncIterableIterator<TransferInfo> {
    return this.find(id).follow()
  }

  async accept(id: string): Promise<TransferInfo> {
    const entry = this.#incoming(id)
    await this.receiver.accept(entry)
    return entry.info()
  }

  async reject(id: string): Promise<TransferInfo> {
    const entry = this.#incoming(id)
    await this.receiver.reject(entry)
    return entry.info()
  }

  /** Cancels an outgoing transfer (`TRANSFER_NOT_FOUND` for an incoming one: reject it instead). */
  async cancel(id: string): Promise<TransferInfo> {
    const entry = this.find(id)
    if (entry.record.direction !== 'send') throw TransferError.notFound(id)
    await this.sender.cancel(entry)
    return entry.info()
  }

  /** Stops everything running and waits for state writes under way; the state stays for the next start. */
  async close(): Promise<void> {
    for (const entry of this.entries.values()) if (entry.record.direction === 'send') entry.abort.abort()
    await this.receiver.close()
    this.#closed = true
    await Promise.allSettled(this.#writes)
  }

  /** Persists `entry`; nothing is written once closed (the next start sees the last state saved). */
  async save(entry: Entry): Promise<void> {
    if (this.#closed) return
    const write = this.store.save(entry.record)
    this.#writes.add(write)
    try {
      await write
    } finally {
      this.#writes.delete(write)
    }
  }

  moved(entry: Entry, transferred: number): void {
    if (entry.progress(transferred)) this.#publish(entry)
  }

  async setState(
    entry: Entry,
    state: TransferState,
    error?: { code: string; message: string },
  ): Promise<void> {
    if (entry.final) return
    entry.record.state = state
    if (error === undefined) delete entry.record.error
    else entry.record.error = error
    if (state === 'done') entry.transferred = entry.record.bytes
    await this.save(entry)
    this.#publish(entry)
    if (entry.final) await this.#settle()
  }

  /**
   * Frees what ended transfers no longer need (manifests, chunk maps: what a restart would not load
   * either), then forgets the oldest ended transfers, record and manifest, beyond the ones kept
   * (`spec/transfer.md` §6.4). One whose end the peer has not been told yet is never forgotten.
   */
  async #settle(): Promise<void> {
    if (this.#closed) return
    const ended: Entry[] = []
    for (const entry of this.entries.values()) {
      if (!entry.final || entry.running) continue
      entry.manifest = null
      entry.maps = []
      entry.sentChunks = []
      this.sender.forget(entry.id)
      if (peerKnowsTheEnd(entry)) ended.push(entry)
    }
    for (const entry of ended.slice(0, Math.max(0, ended.length - this.#keepFinished))) {
      this.entries.delete(entry.id)
      await this.store.remove(entry.id).catch((err) => debug('state of %s kept: %s', entry.id, err.message))
    }
  }

  #publish(entry: Entry): void {
    const info = entry.info()
    entry.publish(info)
    this.emit('changed', info)
  }

  #incoming(id: string): Entry {
    const entry = this.find(id)
    if (entry.record.direction !== 'receive') throw TransferError.notFound(id)
    return entry
  }
}

/**
 * The peer knows how `entry` ended: a receiver told the sender; a sender's final states come from the
 * receiver, except a cancel, which it must deliver.
 */
function peerKnowsTheEnd(entry: Entry): boolean {
  const { direction, state, told } = entry.record
  return told === true || (direction === 'send' && state !== 'cancelled')
}
