import type { Ed25519KeyPair } from '../crypto/index.js'

/**
 * The subset of `lib/dht` `DhtNode` presence uses (`spec/dht.md` §8), structural so tests can pass
 * in-memory fakes.
 * @module
 */

/** A verified DHT record as `lib/dht` returns it. */
export interface PresenceDhtRecord {
  publicKey: Uint8Array
  seq: number
  value: Uint8Array
  deleted: boolean
}

/** A publication that `lib/dht` republishes at TTL/2 until withdrawn. */
export interface PresencePublication {
  readonly stored: Promise<unknown>
  withdraw(): Promise<void>
}

/** What presence needs from the DHT. */
export interface PresenceDht {
  get(
    namespace: string,
    key: Uint8Array,
    options: { signal?: AbortSignal; publicKey?: Uint8Array },
  ): AsyncIterable<PresenceDhtRecord>
  publish(
    namespace: string,
    key: Uint8Array,
    value: Uint8Array,
    options: { keyPair: Ed25519KeyPair; ttlMs: number },
  ): PresencePublication
}
