import createDebug from 'debug'
import { type Ed25519KeyPair, toHex } from '../crypto/index.js'
import type { AdvertAddress } from '../pairing/advert.js'
import { Backoff } from './backoff.js'
import { PRESENCE_EPOCH_MS, PRESENCE_NAMESPACE, PRESENCE_TTL_MS } from './constants.js'
import { epochKeys, epochOf } from './keys.js'
import type { PresencePeer } from './lookup.js'
import { sealPresence } from './record.js'
import type { PresenceDht, PresencePublication } from './types.js'

const debug = createDebug('pairctl:presence')

/** Publishes retry a failed first store after these delays (a node started before its bootstrap). */
const RETRY_BASE_MS = 5_000
const RETRY_MAX_MS = 5 * 60_000

/** Options of {@link PresencePublisher}. */
export interface PresencePublisherOptions {
  dht: PresenceDht
  /** The identity key pair: it signs each record's body, binding the static key to the identity. */
  keyPair: Ed25519KeyPair
  /** The Noise static public key peers need for IK. */
  staticKey: Uint8Array
  /** Record lifetime (default {@link PRESENCE_TTL_MS}); `lib/dht` republishes at half of it. */
  ttlMs?: number
  /** First delay before publishing again when no node stored the record (default 5 s, doubling to 5 min). */
  retryBaseMs?: number
  /** Epoch length (default {@link PRESENCE_EPOCH_MS}); tests shorten it. */
  epochMs?: number
  /** The clock (default `Date.now`). */
  now?: () => number
}

/** What is published for one peer. */
interface Published {
  epoch: number
  /** The address list it carries, as text, to tell whether a new list differs. */
  addresses: string
  publication: PresencePublication
  failed: boolean
}

/**
 * Keeps this node's presence records in the DHT (`spec/presence.md` §3): one per paired device per epoch,
 * each at that pair's epoch key. Publishes a new record when the addresses change (the old publication is
 * withdrawn first, so storing nodes never serve two of one key) and when an epoch starts (the new epoch's
 * record first, then the old one is withdrawn); withdraws the record of a peer that is no longer paired,
 * retries when no node stored one, and withdraws them all on {@link close}. Updates are serialized.
 */
export class PresencePublisher {
  readonly #options: PresencePublisherOptions
  readonly #retry: Backoff
  readonly #peers = new Map<string, PresencePeer>()
  readonly #published = new Map<string, Published>()
  #wanted: AdvertAddress[] = []
  #queue: Promise<void> = Promise.resolve()
  #retryTimer: NodeJS.Timeout | undefined
  #epochTimer: NodeJS.Timeout | undefined
  #closed = false

  constructor(options: PresencePublisherOptions) {
    this.#options = options
    this.#retry = new Backoff(options.retryBaseMs ?? RETRY_BASE_MS, RETRY_MAX_MS)
  }

  get #epochMs(): number {
    return this.#options.epochMs ?? PRESENCE_EPOCH_MS
  }

  #now(): number {
    return this.#options.now?.() ?? Date.now()
  }

  /** Publishes `addresses` (best first) to every peer unless they are what is already published. */
  update(addresses: readonly AdvertAddress[]): Promise<void> {
    this.#wanted = [...addresses]
    return this.#enqueue(() => this.#sync())
  }

  /** The paired devices to publish for; records of devices no longer listed are withdrawn. */
  setPeers(peers: readonly PresencePeer[]): Promise<void> {
    this.#peers.clear()
    for (const peer of peers) this.#peers.set(toHex(peer.identityKey), peer)
    return this.#enqueue(() => this.#sync())
  }

  /** Stops republishing and withdraws every record (signed tombstones). */
  close(): Promise<void> {
    this.#closed = true
    clearTimeout(this.#retryTimer)
    clearTimeout(this.#epochTimer)
    return this.#enqueue(async () => {
      for (const id of [...this.#published.keys()]) await this.#withdraw(id)
    })
  }

  #enqueue(step: () => Promise<void>): Promise<void> {
    this.#queue = this.#queue.then(step).catch((err) => debug('presence update failed: %O', err))
    return this.#queue
  }

  async #sync(): Promise<void> {
    if (this.#closed) return
    for (const id of [...this.#published.keys()]) if (!this.#peers.has(id)) await this.#withdraw(id)
    if (this.#wanted.length === 0) return
    const epoch = epochOf(this.#now(), this.#epochMs)
    const addresses = JSON.stringify(this.#wanted)
    for (const [id, peer] of this.#peers) {
      const current = this.#published.get(id)
      if (current?.epoch === epoch && current.addresses === addresses && !current.failed) continue
      // Same epoch: same key, so the old publication must stop first. A new epoch has a new key: publish
      // it first, so lookups (which prefer the newer epoch) never see only the old one's tombstone.
      if (current?.epoch === epoch) await this.#withdraw(id)
      // A tombstone's seq may equal this millisecond; the new record's seq (its publish time) must exceed it.
      await new Promise((resolve) => setTimeout(resolve, 2))
      this.#publish(id, peer, epoch, addresses)
      if (current !== undefined && current.epoch !== epoch)
        await current.publication.withdraw().catch((err) => debug('withdrawing presence: %O', err))
    }
    this.#armEpochTimer(epoch)
  }

  #publish(id: string, peer: PresencePeer, epoch: number, addresses: string): void {
    const { keyPair, staticKey, dht } = this.#options
    const keys = epochKeys(peer.presenceSecret, keyPair.publicKey, epoch)
    const value = sealPresence(
      { addresses: this.#wanted, staticKey },
      { keys, publisherKey: keyPair.publicKey, recipientKey: peer.identityKey, identity: keyPair },
    )
    const publication = dht.publish(PRESENCE_NAMESPACE, keys.dhtKey, value, {
      keyPair: keys.signing,
      ttlMs: this.#options.ttlMs ?? PRESENCE_TTL_MS,
    })
    const published: Published = { epoch, addresses, publication, failed: false }
    this.#published.set(id, published)
    publication.stored.then(
      () => this.#retry.reset(),
      (err) => this.#storeFailed(published, err),
    )
  }

  /** Nobody stored it (no DHT peers yet): publish again later, with backoff. */
  #storeFailed(published: Published, err: unknown): void {
    debug('presence record not stored: %s', err instanceof Error ? err.message : err)
    published.failed = true
    if (this.#closed || this.#retryTimer !== undefined) return
    this.#retryTimer = setTimeout(() => {
      this.#retryTimer = undefined
      void this.#enqueue(() => this.#sync())
    }, this.#retry.next(Math.random()))
    this.#retryTimer.unref()
  }

  /** Publishes again when the next epoch starts. */
  #armEpochTimer(epoch: number): void {
    clearTimeout(this.#epochTimer)
    if (this.#closed) return
    const delay = (epoch + 1) * this.#epochMs - this.#now()
    this.#epochTimer = setTimeout(() => void this.#enqueue(() => this.#sync()), Math.max(delay, 0))
    this.#epochTimer.unref()
  }

  async #withdraw(id: string): Promise<void> {
    const current = this.#published.get(id)
    this.#published.delete(id)
    await current?.publication.withdraw().catch((err) => debug('withdrawing presence: %O', err))
  }
}
