import { z } from 'zod'
import { decodeCbor, encodeCbor } from '../cbor.js'
import {
  chachaOpen,
  chachaSeal,
  concatBytes,
  type Ed25519KeyPair,
  ed25519Verify,
  randomBytes,
  TAG_LENGTH,
  utf8,
} from '../crypto/index.js'
import { type AdvertAddress, AdvertAddressSchema } from '../pairing/advert.js'
import {
  MAX_PRESENCE_ADDRESSES,
  PRESENCE_NONCE_BYTES,
  PRESENCE_PLAINTEXT_BYTES,
  PRESENCE_VERSION,
  RECORD_AD_LABEL,
  RECORD_SIGNATURE_LABEL,
} from './constants.js'
import { PresenceError } from './errors.js'
import type { EpochKeys } from './keys.js'

/**
 * Presence records (`spec/presence.md` §2): what a device tells one paired device about where it is, for
 * one epoch. The value the DHT stores is sealed with the pair's epoch AEAD key; inside, the addresses and
 * Noise static key are signed by the publisher's identity key, bound to the DHT key, epoch and recipient.
 * @module
 */

/** A decoded presence record. */
export interface PresenceRecord {
  /** TCP addresses the node accepts reconnects on, best first (same shape as pairing adverts'). */
  addresses: AdvertAddress[]
  /** The node's Noise static public key (X25519), which a Noise IK initiator must know in advance. */
  staticKey: Uint8Array
}

/** Which record of which pair: the epoch keys and both identity keys. */
export interface RecordContext {
  keys: EpochKeys
  /** Identity key of the device the record is about (it signs the body). */
  publisherKey: Uint8Array
  /** Identity key of the paired device the record is for. */
  recipientKey: Uint8Array
}

/** Total length of a sealed value: nonce, padded plaintext, tag (668 bytes, under the DHT's 700). */
export const SEALED_PRESENCE_BYTES = PRESENCE_NONCE_BYTES + PRESENCE_PLAINTEXT_BYTES + TAG_LENGTH
/** The plaintext starts with a u16be length of the CBOR map; zero bytes pad the rest. */
const LENGTH_BYTES = 2
const SIGNATURE_LABEL = utf8(`${RECORD_SIGNATURE_LABEL}\0`)
const AD_LABEL = utf8(`${RECORD_AD_LABEL}\0`)

const Bytes = (length: number) =>
  z.custom<Uint8Array>((key) => key instanceof Uint8Array && key.length === length, `${length} bytes`)
const Inner = z
  .object({
    v: z.literal(PRESENCE_VERSION),
    addrs: z.array(AdvertAddressSchema.strict()).min(1).max(MAX_PRESENCE_ADDRESSES),
    noise: Bytes(32),
    sig: Bytes(64),
  })
  .strict()

/**
 * The bytes the publisher's identity key signs (`spec/presence.md` §2.2):
 * `"pairctl/presence/v2/record" 0x00 || dhtKey (32) || u64be(epoch) || recipient identity key (32) ||
 * CBOR {v, addrs, noise}`.
 */
export function recordSignedBytes(context: RecordContext, body: Uint8Array): Uint8Array {
  const epoch = new Uint8Array(8)
  new DataView(epoch.buffer).setBigUint64(0, BigInt(context.keys.epoch))
  return concatBytes(SIGNATURE_LABEL, context.keys.dhtKey, epoch, context.recipientKey, body)
}

/**
 * Seals `record` for the recipient of `context` (`spec/presence.md` §2): the DHT value
 * `nonce (12) || ChaCha20-Poly1305(aeadKey, nonce, AD = label 0x00 || dhtKey, padded plaintext)`.
 * Addresses keep the caller's order; those that do not fit the plaintext are dropped from the end.
 * `PRESENCE_BAD_OPTION` when none fits. `nonce` is random unless given (vectors).
 */
export function sealPresence(
  record: PresenceRecord,
  context: RecordContext & { identity: Ed25519KeyPair },
  nonce: Uint8Array = randomBytes(PRESENCE_NONCE_BYTES),
): Uint8Array {
  if (record.staticKey.length !== 32) throw PresenceError.badOption('the Noise static key must be 32 bytes')
  const plaintext = new Uint8Array(PRESENCE_PLAINTEXT_BYTES)
  const inner = innerMap(record, context)
  new DataView(plaintext.buffer).setUint16(0, inner.length)
  plaintext.set(inner, LENGTH_BYTES)
  return concatBytes(nonce, chachaSeal(context.keys.aeadKey, nonce, associatedData(context), plaintext))
}

function innerMap(record: PresenceRecord, context: RecordContext & { identity: Ed25519KeyPair }) {
  for (let count = Math.min(record.addresses.length, MAX_PRESENCE_ADDRESSES); count > 0; count--) {
    const addrs = record.addresses.slice(0, count).map(({ host, port }) => ({ host, port, transport: 'tcp' }))
    const body = { v: PRESENCE_VERSION, addrs, noise: record.staticKey }
    const sig = context.identity.sign(recordSignedBytes(context, encodeCbor(body)))
    const encoded = encodeCbor({ ...body, sig })
    if (encoded.length <= PRESENCE_PLAINTEXT_BYTES - LENGTH_BYTES) return encoded
  }
  throw PresenceError.badOption('a presence record needs at least one address that fits')
}

/**
 * Opens and verifies a sealed record (`spec/presence.md` §2): AEAD, length and zero padding, the CBOR
 * schema, then the identity signature over the re-encoded body. `PRESENCE_BAD_RECORD` for anything else.
 */
export function openPresence(value: Uint8Array, context: RecordContext): PresenceRecord {
  if (value.length !== SEALED_PRESENCE_BYTES) throw PresenceError.badRecord(`${value.length} bytes`)
  let plaintext: Uint8Array
  try {
    const nonce = value.subarray(0, PRESENCE_NONCE_BYTES)
    const sealed = value.subarray(PRESENCE_NONCE_BYTES)
    plaintext = chachaOpen(context.keys.aeadKey, nonce, associatedData(context), sealed)
  } catch (err) {
    throw PresenceError.badRecord('does not decrypt with the epoch key', err)
  }
  const length = new DataView(plaintext.buffer, plaintext.byteOffset).getUint16(0)
  const end = LENGTH_BYTES + length
  if (end > plaintext.length || plaintext.subarray(end).some((byte) => byte !== 0))
    throw PresenceError.badRecord('bad length or padding')
  const inner = decodeInner(plaintext.subarray(LENGTH_BYTES, end))
  const body = encodeCbor({ v: inner.v, addrs: inner.addrs, noise: inner.noise })
  if (!ed25519Verify(context.publisherKey, recordSignedBytes(context, body), inner.sig))
    throw PresenceError.badRecord('identity signature does not verify')
  return { addresses: inner.addrs, staticKey: inner.noise }
}

function decodeInner(bytes: Uint8Array): z.output<typeof Inner> {
  try {
    return decodeCbor(Inner, bytes)
  } catch (err) {
    throw PresenceError.badRecord(err instanceof Error ? err.message : String(err), err)
  }
}

function associatedData(context: RecordContext): Uint8Array {
  return concatBytes(AD_LABEL, context.keys.dhtKey)
}
