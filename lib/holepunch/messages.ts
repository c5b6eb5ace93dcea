import { ed25519 } from '@noble/curves/ed25519.js'
import { z } from 'zod'
import { decodeCbor, encodeCbor } from '../cbor.js'
import {
  chachaOpen,
  chachaSeal,
  concatBytes,
  type Ed25519KeyPair,
  hmacSha256,
  randomBytes,
  sha256,
  utf8,
  X25519KeyPair,
} from '../crypto/index.js'
import {
  ANSWER_KEY_LABEL,
  MAX_RECORD_BYTES,
  NONCE_BYTES,
  PAIRING_KEY_DOMAIN,
  PRESENCE_KEY_DOMAIN,
  PUNCH_VERSION,
  REQUEST_KEY_LABEL,
  SALT_BYTES,
} from './constants.js'
import { HolepunchError } from './errors.js'

/**
 * Punch records (`spec/holepunch.md` §3-§4): the sealed messages the two sides exchange through the DHT
 * to learn each other's mapped TCP address. A record value is
 * `u8 version || salt(32) || u8 counter || ChaCha20-Poly1305(key, counter, ad, CBOR(message))`; only
 * the two sides can derive the keys, so a storing node or anyone who can compute the DHT key sees
 * ciphertext and the salt, nothing else.
 * @module
 */

/** A public TCP endpoint. */
export interface Endpoint {
  host: string
  port: number
}

const EndpointSchema = z.object({
  host: z.string().min(1).max(253),
  port: z.number().int().min(1).max(65535),
})
const Nonce = z.custom<Uint8Array>((n) => n instanceof Uint8Array && n.length === NONCE_BYTES)
/** How the sender's NAT maps ports: `preserving` (the external port is the local one), `changing`, `none`. */
const NatSchema = z.enum(['none', 'preserving', 'changing'])
export type NatBehaviour = z.output<typeof NatSchema>

/** Requester to responder: "connect to me at `addr`"; `at` is the requester's clock (ms since the epoch). */
const RequestSchema = z.object({
  t: z.literal('req'),
  n: Nonce,
  addr: EndpointSchema,
  nat: NatSchema,
  at: z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER),
})
/** Responder to requester: its own mapped address, or null when its NAT makes a punch hopeless. */
const AnswerSchema = z.object({
  t: z.literal('ans'),
  n: Nonce,
  addr: EndpointSchema.nullable(),
  nat: NatSchema,
})
/** Requester to responder: the requester gave up on every path (the responder stops waiting). */
const EndSchema = z.object({
  t: z.literal('end'),
  n: Nonce,
  why: z.enum(['no-path', 'no-answer', 'symmetric', 'responder-symmetric']),
})

export const PunchMessageSchema = z.discriminatedUnion('t', [RequestSchema, AnswerSchema, EndSchema])
export type PunchMessage = z.output<typeof PunchMessageSchema>
export type PunchRequest = z.output<typeof RequestSchema>
export type PunchAnswer = z.output<typeof AnswerSchema>
export type PunchEnd = z.output<typeof EndSchema>

/** The sealing keys of one exchange, named by its salt. */
export interface PunchKeys {
  salt: Uint8Array
  /** Seals what the requester sends (request, end). */
  request: Uint8Array
  /** Seals what the responder sends (answer). */
  answer: Uint8Array
}

/** The DHT key of a pairing's punch records: SHA-256("pairctl/holepunch/v1/pairing" || advert key). */
export function pairingPunchKey(advertKey: Uint8Array): Uint8Array {
  return sha256(utf8(PAIRING_KEY_DOMAIN), advertKey)
}

/**
 * The DHT key (namespace `pairing`) of the punch records asking `responderKey` to punch, in presence epoch
 * `epoch` (`spec/presence.md` §1): SHA-256("pairctl/holepunch/v1/presence" || presence secret ||
 * responder identity key || u64be(epoch)). Only the pair can compute it; it changes every epoch, and
 * the two directions of a pair have unrelated keys.
 */
export function presencePunchKey(
  presenceSecret: Uint8Array,
  responderKey: Uint8Array,
  epoch: number,
): Uint8Array {
  const epochBytes = new Uint8Array(8)
  new DataView(epochBytes.buffer).setBigUint64(0, BigInt(epoch))
  return sha256(utf8(PRESENCE_KEY_DOMAIN), presenceSecret, responderKey, epochBytes)
}

function keysOf(shared: Uint8Array, salt: Uint8Array): PunchKeys {
  return {
    salt,
    request: hmacSha256(shared, utf8(REQUEST_KEY_LABEL), salt),
    answer: hmacSha256(shared, utf8(ANSWER_KEY_LABEL), salt),
  }
}

/**
 * A joiner's keys for a pairing: a fresh X25519 key (its public half is the salt) agreed with the advert
 * key's Montgomery form, so only the holder of the advert key can read the request.
 */
export function joinerKeys(
  advertKey: Uint8Array,
  ephemeral: X25519KeyPair = X25519KeyPair.generate(),
): PunchKeys {
  const shared = ephemeral.dh(ed25519.utils.toMontgomery(advertKey))
  return keysOf(shared, ephemeral.publicKey)
}

/** The advertiser's keys for a request with `salt`; throws `CRYPTO_INVALID_KEY` for a small-order salt. */
export function advertiserKeys(advertKeyPair: Ed25519KeyPair, salt: Uint8Array): PunchKeys {
  const scalar = X25519KeyPair.fromPrivateKey(ed25519.utils.toMontgomerySecret(advertKeyPair.seed))
  return keysOf(scalar.dh(salt), salt)
}

/** A paired device's keys: the pair's presence secret and a salt (fresh for a request). */
export function presenceKeys(
  presenceSecret: Uint8Array,
  salt: Uint8Array = randomBytes(SALT_BYTES),
): PunchKeys {
  return keysOf(presenceSecret, salt)
}

/** Associated data of a sealed message: the DHT key and the record's clear header. */
function associatedData(dhtKey: Uint8Array, header: Uint8Array): Uint8Array {
  return concatBytes(dhtKey, header)
}

/** Seals `message` with `key` (the request or answer key of `salt`) as a record value. */
export function sealMessage(
  dhtKey: Uint8Array,
  keys: PunchKeys,
  counter: number,
  message: PunchMessage,
): Uint8Array {
  const key = message.t === 'ans' ? keys.answer : keys.request
  const header = concatBytes(Uint8Array.of(PUNCH_VERSION), keys.salt, Uint8Array.of(counter))
  const value = concatBytes(
    header,
    chachaSeal(key, counter, associatedData(dhtKey, header), encodeCbor(message)),
  )
  if (value.length > MAX_RECORD_BYTES) throw HolepunchError.badRecord(`${value.length} bytes is too large`)
  return value
}

/** The clear header of a record value: the salt that selects its keys. */
export function recordSalt(value: Uint8Array): Uint8Array {
  if (value.length < 2 + SALT_BYTES || value[0] !== PUNCH_VERSION)
    throw HolepunchError.badRecord('not a version 1 punch record')
  return value.subarray(1, 1 + SALT_BYTES)
}

/**
 * Opens a record value with `keys`, trying the direction `from` names. Throws `HOLEPUNCH_BAD_RECORD`
 * when it does not open (someone else's record, or forged) or does not decode.
 */
export function openMessage(
  dhtKey: Uint8Array,
  keys: PunchKeys,
  from: 'requester' | 'responder',
  value: Uint8Array,
): PunchMessage {
  recordSalt(value)
  const header = value.subarray(0, 2 + SALT_BYTES)
  const counter = header[1 + SALT_BYTES]!
  const key = from === 'responder' ? keys.answer : keys.request
  let plain: Uint8Array
  try {
    plain = chachaOpen(key, counter, associatedData(dhtKey, header), value.subarray(header.length))
  } catch (cause) {
    throw HolepunchError.badRecord('does not open with this exchange’s key', cause)
  }
  let message: PunchMessage
  try {
    message = decodeCbor(PunchMessageSchema, plain)
  } catch (cause) {
    throw HolepunchError.badRecord('does not decode', cause)
  }
  const answering = message.t === 'ans'
  if (answering !== (from === 'responder')) throw HolepunchError.badRecord(`a ${message.t} from the ${from}`)
  return message
}
