import createDebug from 'debug'
import type { Ed25519KeyPair } from '../crypto/index.js'
import type { AdvertAddress } from '../pairing/advert.js'
import { Backoff } from './backoff.js'
import { PRESENCE_NAMESPACE, PRESENCE_TTL_MS } from './constants.js'
import { presenceKey } from './key.js'
import { encodePresence } from './record.js'
import type { PresenceDht, PresencePublication } from './types.js'

const debug = createDebug('pairctl:presence')

/** Publishes retry a failed first store after these delays (a node started before its bootstrap). */
const RETRY_BASE_MS = 5_000
const RETRY_MAX_MS = 5 * 60_000

/** Options of {@link PresencePublisher}. */
export interface PresencePublisherOptions {
  dht: PresenceDht
  /** The identity key pair: it signs the DHT record, which binds the static key to the identity. */
  keyPair: Ed25519KeyPair
  /** The Noise static public key peers need for IK. */
  staticKey: Uint8Array
  /** Record lifetime (default {@link PRESENCE_TTL_MS}); `lib/dht` republishes at half of it. */
  ttlMs?: number
  /** First delay before publishing again when no node stored the record (default 5 s, doubling to 5 min). */
  retryBaseMs?: number
}

/**
 * Keeps this node's presence record in the DHT (`spec/presence.md` §3): publishes it, republishes it with
 * a higher `seq` when the addresses change (the old publication is withdrawn first, so storing nodes never
 * serve two), retries when no node stored it, and withdraws it on {@link close}. Updates are serialized.
 */
export class PresencePublisher {
  readonly #options: PresencePublisherOptions
  readonly #key: Uint8Array
  readonly #retry: Backoff
  #current: { value: string; publication: PresencePublication } | null = null
  #wanted: AdvertAddress[] = []
  #queue: Promise<void> = Promise.resolve()
  #timer: NodeJS.Timeout | undefined
  #closed = false

  constructor(options: PresencePublisherOptions) {
    this.#options = options
    this.#key = presenceKey(options.keyPair.publicKey)
    this.#retry = new Backoff(options.retryBaseMs ?? RETRY_BASE_MS, RETRY_MAX_MS)
  }

  /** Publishes `addresses` (best first) unless they are what is already published. */
  update(addresses: readonly AdvertAddress[]): Promise<void> {
    this.#wanted = [...addresses]
    return this.#enqueue(() => this.#sync(false))
  }

  /** Stops republishing and withdraws the record (a signed tombstone). */
  close(): Promise<void> {
    this.#closed = true
    clearTimeout(this.#timer)
    return this.#enqueue(() => this.#withdraw())
  }

  #enqueue(step: () => Promise<void>): Promise<void> {
    this.#queue = this.#queue.then(step).catch((err) => debug('presence update failed: %O', err))
    return this.#queue
  }

  async #sync(force: boolean): Promise<void> {
    if (this.#closed || this.#wanted.length === 0) return
    const value = encodePresence({ addresses: this.#wanted, staticKey: this.#options.staticKey })
    const text = Buffer.from(value).toString('base64')
    if (!force && this.#current?.value === text) return
    await this.#withdraw()
    // A tombstone's seq may equal this millisecond; the new record's seq (its publish time) must exceed it.
    await new Promise((resolve) => setTimeout(resolve, 2))
    const publication = this.#options.dht.publish(PRESENCE_NAMESPACE, this.#key, value, {
      keyPair: this.#options.keyPair,
      ttlMs: this.#options.ttlMs ?? PRESENCE_TTL_MS,
    })
    this.#current = { value: text, publication }
    publication.stored.then(
      () => this.#retry.reset(),
      (err) => this.#storeFailed(publication, err),
    )
  }

  /** Nobody stored it (no DHT peers yet): publish again later, with backoff. */
  #storeFailed(publication: PresencePublication, err: unknown): void {
    debug('presence record not stored: %s', err instanceof Error ? err.message : err)
    if (this.#closed || this.#current?.publication !== publication) return
    this.#timer = setTimeout(
      () => void this.#enqueue(() => this.#sync(true)),
      this.#retry.next(Math.random()),
    )
    this.#timer.unref()
  }

  async #withdraw(): Promise<void> {
    const current = this.#current
    this.#current = null
    await current?.publication.withdraw().catch((err) => debug('withdrawing presence: %O', err))
  }
}
