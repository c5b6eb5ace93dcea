import { z } from 'zod'
import { decodeCbor, encodeCbor } from '../cbor.js'
import { type AdvertAddress, StrictAdvertAddressSchema, wireAddress } from '../pairing/advert.js'
import { MAX_PRESENCE_ADDRESSES, MAX_PRESENCE_BYTES, PRESENCE_VERSION } from './constants.js'
import { PresenceError } from './errors.js'

/**
 * Presence records (`spec/presence.md` §2): the value a running node publishes in the DHT, signed (by the
 * DHT record signature) with its identity key, so a paired peer can find and authenticate it.
 * @module
 */

/** A decoded presence record. */
export interface PresenceRecord {
  /** TCP addresses the node accepts reconnects on, best first (same shape as pairing adverts'). */
  addresses: AdvertAddress[]
  /** The node's Noise static public key (X25519), which a Noise IK initiator must know in advance. */
  staticKey: Uint8Array
}

const Record = z.object({
  v: z.literal(PRESENCE_VERSION),
  addrs: z.array(StrictAdvertAddressSchema).min(1).max(MAX_PRESENCE_ADDRESSES),
  noise: z.custom<Uint8Array>((key) => key instanceof Uint8Array && key.length === 32, '32 bytes'),
})

/**
 * Encodes a record (deterministic CBOR). Addresses keep the caller's order; those that would push the
 * encoding past {@link MAX_PRESENCE_BYTES} are dropped from the end. `PRESENCE_BAD_OPTION` without any.
 */
export function encodePresence(record: PresenceRecord): Uint8Array {
  if (record.staticKey.length !== 32) throw PresenceError.badOption('the Noise static key must be 32 bytes')
  for (let count = Math.min(record.addresses.length, MAX_PRESENCE_ADDRESSES); count > 0; count--) {
    const addrs = record.addresses.slice(0, count).map(wireAddress)
    const encoded = encodeCbor({ v: PRESENCE_VERSION, addrs, noise: record.staticKey })
    if (encoded.length <= MAX_PRESENCE_BYTES) return encoded
  }
  throw PresenceError.badOption('a presence record needs at least one address that fits')
}

/** Decodes and validates a record's value; `PRESENCE_BAD_RECORD` for anything else. */
export function decodePresence(bytes: Uint8Array): PresenceRecord {
  if (bytes.length > MAX_PRESENCE_BYTES) throw PresenceError.badRecord(`${bytes.length} bytes`)
  try {
    const { addrs, noise } = decodeCbor(Record, bytes)
    return { addresses: addrs, staticKey: noise }
  } catch (err) {
    throw PresenceError.badRecord(err instanceof Error ? err.message : String(err), err)
  }
}
