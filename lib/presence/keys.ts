import { hkdfSync } from 'node:crypto'
import { Ed25519KeyPair, utf8 } from '../crypto/index.js'
import { ownedKey } from '../dht/record.js'
import { EPOCH_KEYS_SALT, PRESENCE_EPOCH_MS, PRESENCE_NAMESPACE } from './constants.js'
import { PresenceError } from './errors.js'

/**
 * The per-epoch keys of one direction of a pair (`spec/presence.md` §1). Both devices of the pair can
 * compute them from their presence secret; nobody else can, and keys of different epochs, directions or
 * pairs look unrelated.
 */
export interface EpochKeys {
  epoch: number
  /** Signs the DHT record; its public key is the record's publisher key. */
  signing: Ed25519KeyPair
  /** The DHT key the record lives at: owned by `signing` (`spec/dht.md` §7.2). */
  dhtKey: Uint8Array
  /** ChaCha20-Poly1305 key of the record's value. */
  aeadKey: Uint8Array
}

const SALT = utf8(EPOCH_KEYS_SALT)

/** The epoch `now` (ms since the Unix epoch) falls in: floor(now / epochMs). */
export function epochOf(now: number, epochMs = PRESENCE_EPOCH_MS): number {
  return Math.floor(now / epochMs)
}

/**
 * The epochs a lookup at `now` asks for (`spec/presence.md` §3.2): the current one, then the adjacent one
 * whose boundary is nearer (the previous in the first half of the epoch, the next in the second), so a
 * publisher whose clock is off by less than half an epoch is found.
 */
export function lookupEpochs(now: number, epochMs = PRESENCE_EPOCH_MS): [number, number] {
  const epoch = epochOf(now, epochMs)
  return [epoch, now - epoch * epochMs < epochMs / 2 ? epoch - 1 : epoch + 1]
}

/**
 * The keys of the records `publisherKey` publishes for its pair in `epoch` (`spec/presence.md` §1):
 * `okm = HKDF-SHA256(salt = "pairctl/presence/v2/epoch-keys", ikm = presence secret,
 * info = publisher identity key || u64be(epoch), 64)`; the signing seed is okm[0..32], the AEAD key
 * okm[32..64], and the DHT key is the signing key's owned key in namespace `presence`.
 */
export function epochKeys(presenceSecret: Uint8Array, publisherKey: Uint8Array, epoch: number): EpochKeys {
  if (presenceSecret.length !== 32) throw PresenceError.badOption('a presence secret is 32 bytes')
  if (publisherKey.length !== 32) throw PresenceError.badOption('an identity key is 32 bytes')
  if (!Number.isSafeInteger(epoch) || epoch < 0) throw PresenceError.badOption(`bad epoch ${epoch}`)
  const info = new Uint8Array(40)
  info.set(publisherKey)
  new DataView(info.buffer).setBigUint64(32, BigInt(epoch))
  const okm = new Uint8Array(hkdfSync('sha256', presenceSecret, SALT, info, 64))
  const signing = Ed25519KeyPair.fromSeed(okm.subarray(0, 32))
  return {
    epoch,
    signing,
    dhtKey: ownedKey(PRESENCE_NAMESPACE, signing.publicKey),
    aeadKey: okm.slice(32, 64),
  }
}
