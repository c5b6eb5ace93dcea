import { z } from 'zod'
import { DecodeError, decodeCbor, encodeCbor } from '../cbor.js'
import { MAX_NAME_LENGTH, PROTOCOL_VERSION } from './constants.js'
import { PairingError, WIRE_ERROR_CODES } from './errors.js'

/**
 * The in-channel pairing messages (`spec/pairing.md` §5): CBOR maps with text keys, each carrying
 * `v` (protocol version) and `type`, validated with zod at the trust boundary.
 * @module
 */

const bytes = (length: number) =>
  z.custom<Uint8Array>(
    (value) => value instanceof Uint8Array && value.length === length,
    `expected ${length} bytes`,
  )
const label = z.string().min(1).max(MAX_NAME_LENGTH)

/** Joiner → advertiser, first message: which advertisement, and the joiner's CPace share Ya (§5.1). */
const Hello = z.object({
  v: z.literal(PROTOCOL_VERSION),
  type: z.literal('hello'),
  advert: bytes(32),
  share: bytes(32),
})
/** Advertiser → joiner: its CPace share Yb (§5.2). */
const Share = z.object({ v: z.literal(PROTOCOL_VERSION), type: z.literal('share'), share: bytes(32) })
/** Key-confirmation tag, joiner first, then the advertiser (§5.3). */
const Confirm = z.object({ v: z.literal(PROTOCOL_VERSION), type: z.literal('confirm'), mac: bytes(32) })
/**
 * After confirmation and the local SAS accept: this side's device name and type, and its identity key
 * with the signature binding it to this session (§5.4, §6.5): the only message that names a device.
 */
const Accept = z.object({
  v: z.literal(PROTOCOL_VERSION),
  type: z.literal('accept'),
  name: label,
  deviceType: label,
  identity: bytes(32),
  sig: bytes(64),
})
/** Either side, last message: why it is giving up (§5.5). */
const ErrorMessage = z.object({
  v: z.literal(PROTOCOL_VERSION),
  type: z.literal('error'),
  code: z.enum(WIRE_ERROR_CODES),
})

/** Schema of every pairing message. */
export const PairingMessageSchema = z.discriminatedUnion('type', [
  Hello,
  Share,
  Confirm,
  Accept,
  ErrorMessage,
])
/** Any pairing message. */
export type PairingMessage = z.output<typeof PairingMessageSchema>
/** The message with the given `type`. */
export type MessageOf<T extends PairingMessage['type']> = Extract<PairingMessage, { type: T }>

/** Just enough to read the version first, so another version gets `PAIRING_UNSUPPORTED_VERSION`, not a parse error. */
const Versioned = z.looseObject({ v: z.number().int() })

/** Encodes a message (deterministic CBOR, `lib/cbor.ts`). */
export function encodeMessage(message: PairingMessage): Uint8Array {
  return encodeCbor(message)
}

/**
 * Decodes and validates one message. Throws `PAIRING_UNSUPPORTED_VERSION` for a version other than 2 and
 * `PAIRING_PROTOCOL` for anything malformed.
 */
export function decodeMessage(bytes: Uint8Array): PairingMessage {
  try {
    const { v } = decodeCbor(Versioned, bytes)
    if (v !== PROTOCOL_VERSION) throw PairingError.version(v)
    return decodeCbor(PairingMessageSchema, bytes)
  } catch (cause) {
    if (cause instanceof DecodeError) throw PairingError.protocol(cause.message, cause)
    throw cause
  }
}
