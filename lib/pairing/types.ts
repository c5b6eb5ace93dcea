import type { Duplex } from 'node:stream'
import type { Ed25519KeyPair, X25519KeyPair } from '../crypto/index.js'
import type { AdvertAddress } from './advert.js'
import type { ConnectionPath } from './connect.js'
import type { PairingError } from './errors.js'
import type { DeviceInfo } from './handshake.js'
import type { PairedDevice } from './store.js'

/**
 * The interfaces the pairing I/O layer is driven through (`spec/pairing.md` §8): the DHT, the secure
 * channel and the session handed back to callers. Structural, so tests can pass in-memory fakes.
 * @module
 */

/** This device's identity (`lib/identity` `Identity` satisfies it). */
export interface PairingIdentity {
  readonly keyPair: Ed25519KeyPair
  readonly publicKey: Uint8Array
  readonly noiseKeyPair?: X25519KeyPair
}

/** A DHT record as `lib/dht` returns it. */
export interface PairingDhtRecord {
  publicKey: Uint8Array
  value: Uint8Array
  deleted: boolean
}

/** The subset of `lib/dht` `DhtNode` pairing uses (`spec/dht.md` §8). */
export interface PairingDht {
  get(namespace: string, key: Uint8Array, options?: { signal?: AbortSignal }): AsyncIterable<PairingDhtRecord>
  publish(
    namespace: string,
    key: Uint8Array,
    value: Uint8Array,
    options: { keyPair: Ed25519KeyPair; ttlMs: number },
  ): PairingPublication | Promise<PairingPublication>
}

/** A publication as `lib/dht` returns it: `stored` settles with the first store's outcome. */
export interface PairingPublication {
  readonly stored?: Promise<unknown>
  withdraw(): Promise<void>
}

/** An anonymous pairing channel (`lib/channel` `SecureChannel` without identities, `spec/pairing.md` §4). */
export interface PairingChannel {
  readonly handshakeHash: Uint8Array
  /** This side's Noise static public key, generated for this one connection. */
  readonly localStaticKey: Uint8Array
  /** The peer's Noise static public key, also per connection: it names no device. */
  readonly remoteStaticKey: Uint8Array
  send(message: Uint8Array): Promise<void>
  messages(): AsyncIterable<Uint8Array>
  close(): void
  destroy(err?: Error): void
}

/** Runs the anonymous Noise XX handshake over a connected duplex (default: {@link openPairingChannel}). */
export type ChannelOpener = (
  duplex: Duplex,
  options: { role: 'initiator' | 'responder'; signal?: AbortSignal },
) => Promise<PairingChannel>

/** Progress of a pairing, in order; the last is `paired` or `failed` (`spec/pairing.md` §8). */
export type PairingEvent =
  | { type: 'code'; code: string; expiresAt: number }
  | { type: 'advertised'; addresses: AdvertAddress[] }
  | { type: 'searching' }
  | { type: 'found'; addresses: AdvertAddress[] }
  /**
   * `path`: how the connection got there (`spec/holepunch.md` §6), when the side knows; `relayed`: it
   * runs through a relay (`spec/relay.md` §8.2).
   */
  | { type: 'peer-connected'; address: string; path?: ConnectionPath; relayed?: boolean }
  | { type: 'verifying' }
  | { type: 'sas'; sas: string }
  /**
   * Advertiser with attempts left: a wrong code was tried (`wrong-code`), or a joiner got this side's
   * share and left without a tag (`abandoned`); either spent one attempt and `remaining` are left.
   */
  | { type: 'attempt-failed'; remaining: number; reason: 'wrong-code' | 'abandoned' }
  | { type: 'paired'; device: PairedDevice }
  | { type: 'failed'; error: PairingError }

/** A pairing in progress, as {@link generatePairing} and {@link joinPairing} return it. */
export interface PairingSession {
  /** The canonical code (words joined by dashes). */
  readonly code: string
  /** Every event from the start, then each new one, until `paired` or `failed`. */
  readonly events: AsyncIterable<PairingEvent>
  /** The paired device (stored first when a store was given), or the PairingError that ended it. */
  readonly result: Promise<PairedDevice>
  /** Cancels: the advert is withdrawn, the peer told, `result` rejects with `PAIRING_CANCELLED`. */
  cancel(): void
}

/** Options shared by both sides. */
export interface CommonPairingOptions {
  identity: PairingIdentity
  deviceInfo: DeviceInfo
  /** Shows the SAS; pairing completes only if it resolves true (`spec/pairing.md` §6.3). */
  confirm?: (sas: string) => Promise<boolean>
  signal?: AbortSignal
  /** Where the paired device is stored before `result` resolves. */
  store?: { add(device: PairedDevice): Promise<void> }
  /** Noise handshake (default: `lib/channel` `openChannel` with the pairing prologue). */
  openChannel?: ChannelOpener
}
