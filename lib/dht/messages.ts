import { z } from 'zod'
import {
  AMPLIFICATION_FACTOR,
  Command,
  type CommandCode,
  DHT_VERSION,
  ID_BYTES,
  MAX_DATAGRAM_BYTES,
  MAX_NAMESPACE_BYTES,
  MessageType,
  MIN_REQUEST_BYTES,
  PUBLIC_KEY_BYTES,
  SIGNATURE_BYTES,
  TOKEN_BYTES,
  type WireErrorCode,
} from './constants.js'
import { decodeDatagram, encodeDatagram as encodeCbor } from './fast-cbor.js'

const bytes = (length: number) =>
  z.custom<Uint8Array>((value) => value instanceof Uint8Array && value.length === length)
const varBytes = (max: number) =>
  z.custom<Uint8Array>((value) => value instanceof Uint8Array && value.length <= max)
const addressBytes = z.custom<Uint8Array>(
  (value) => value instanceof Uint8Array && (value.length === 6 || value.length === 18),
)
const uint = (max: number) => z.number().int().min(0).max(max)
/**
 * Seq and expiry are milliseconds, above 2^32: cbor-x decodes such 64-bit integers as bigint (its
 * `int64AsType` option does not apply to this build), so both forms are accepted and turned into safe numbers.
 */
const uint64 = z
  .union([z.number().int().min(0), z.bigint().min(0n).max(BigInt(Number.MAX_SAFE_INTEGER))])
  .transform(Number)
  .pipe(z.number().max(Number.MAX_SAFE_INTEGER))

/** A signed record on the wire (`spec/dht.md` §3.3): publisher key, seq, expiry, value, signature. */
export const WireRecordSchema = z.object({
  p: bytes(PUBLIC_KEY_BYTES),
  s: uint64,
  x: uint64,
  v: varBytes(MAX_DATAGRAM_BYTES),
  g: bytes(SIGNATURE_BYTES),
})
export type WireRecord = z.output<typeof WireRecordSchema>

/**
 * Every datagram is one CBOR map (`spec/dht.md` §3.2). Fields by use: `y` type, `v` version, `t`
 * transaction id, `c` command, `to` the receiver's endpoint as the sender saw it, `id` the sender's
 * node id (servers only), `tg` FIND_NODE target, `ns`/`k` record namespace and key, `pk` publisher
 * filter, `o` GET records offset, `sk` closest nodes to skip, `tk` write token, `r` one record (PUT), `rs` records (GET reply),
 * `m` more records follow, `n` closer nodes (compact endpoints), `e` error code, `z` padding.
 */
export const MessageSchema = z.object({
  y: z.union([z.literal(MessageType.REQUEST), z.literal(MessageType.RESPONSE)]),
  v: uint(255),
  t: uint(0xffffffff),
  c: uint(255),
  to: addressBytes,
  id: bytes(ID_BYTES).optional(),
  tg: bytes(ID_BYTES).optional(),
  ns: z.string().max(MAX_NAMESPACE_BYTES).optional(),
  k: bytes(ID_BYTES).optional(),
  pk: bytes(PUBLIC_KEY_BYTES).optional(),
  o: uint(255).optional(),
  sk: uint(255).optional(),
  tk: bytes(TOKEN_BYTES).optional(),
  r: WireRecordSchema.optional(),
  rs: z.array(WireRecordSchema).max(64).optional(),
  m: z.boolean().optional(),
  n: z.array(addressBytes).max(64).optional(),
  e: uint(255).optional(),
  z: varBytes(MAX_DATAGRAM_BYTES).optional(),
})
export type Message = z.output<typeof MessageSchema>

/** Fields of a request besides the envelope (`y`, `v`, `t`, `c`, `to`, `id`). */
export type RequestBody = Pick<Message, 'tg' | 'ns' | 'k' | 'pk' | 'o' | 'sk' | 'tk' | 'r'>
/** Fields of a response besides the envelope. */
export type ResponseBody = Pick<Message, 'n' | 'tk' | 'rs' | 'm'> & { e?: WireErrorCode }

/** Decodes a datagram; null for anything malformed, oversized or of another version. */
export function decodeMessage(datagram: Uint8Array): Message | null {
  if (datagram.length > MAX_DATAGRAM_BYTES || datagram.length === 0) return null
  // A CBOR map has major type 5 (0xa0-0xbf): cheap rejection of STUN and noise before decoding.
  if ((datagram[0]! & 0xe0) !== 0xa0) return null
  const value = decodeDatagram(datagram)
  if (value === null) return null
  const parsed = MessageSchema.safeParse(value)
  return parsed.success && parsed.data.v === DHT_VERSION && hasRequiredFields(parsed.data)
    ? parsed.data
    : null
}

/** Per-command required request fields (`spec/dht.md` §5). */
function hasRequiredFields(message: Message): boolean {
  if (message.y === MessageType.RESPONSE) return true
  switch (message.c) {
    case Command.FIND_NODE:
      return message.tg !== undefined
    case Command.GET:
      return message.ns !== undefined && message.k !== undefined
    case Command.PUT:
      return message.ns !== undefined && message.k !== undefined && message.r !== undefined
    default:
      return true
  }
}

/** Encodes a request, padded with `z` to the command's minimum size (§8.1). */
export function encodeRequest(
  envelope: { t: number; c: CommandCode; to: Uint8Array; id?: Uint8Array | undefined },
  body: RequestBody,
): Uint8Array {
  const message = { y: MessageType.REQUEST, v: DHT_VERSION, ...envelope, ...body }
  const plain = encodeCbor(message)
  const minimum = MIN_REQUEST_BYTES[envelope.c]
  if (plain.length >= minimum) return plain
  // A `z` byte string adds 1 (key) + 1 (key text) + header (1-3) + length bytes; grow until it fits.
  let padding = Math.max(0, minimum - plain.length - 4)
  for (;;) {
    const padded = encodeCbor({ ...message, z: new Uint8Array(padding) })
    if (padded.length >= minimum) return padded
    padding += minimum - padded.length
  }
}

/**
 * Encodes a response within `budget` bytes, dropping trailing `rs` records then `n` contacts until it
 * fits (`m` tells the requester more records exist). Null when even the bare envelope does not fit:
 * the request was too small to deserve any reply.
 */
export function encodeResponse(
  envelope: { t: number; c: number; to: Uint8Array; id?: Uint8Array | undefined },
  body: ResponseBody,
  budget: number,
): Uint8Array | null {
  const message = { y: MessageType.RESPONSE, v: DHT_VERSION, ...envelope, ...body }
  for (;;) {
    const encoded = encodeCbor(message)
    if (encoded.length <= budget) return encoded
    if (message.rs !== undefined && message.rs.length > 0) {
      message.rs = message.rs.slice(0, -1)
      message.m = true
    } else if (message.n !== undefined && message.n.length > 0) {
      const perContact = (message.n[0]?.length ?? 6) + 1
      message.n = message.n.slice(
        0,
        Math.max(0, message.n.length - Math.ceil((encoded.length - budget) / perContact)),
      )
    } else {
      return null
    }
  }
}

/** The reply budget for a request of `requestBytes` bytes (§8.1). */
export function replyBudget(requestBytes: number): number {
  return Math.min(MAX_DATAGRAM_BYTES, AMPLIFICATION_FACTOR * requestBytes)
}
