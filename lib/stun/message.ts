/**
 * The STUN message codec (RFC 8489 §5 header, §14 attribute TLVs). Decoding is strict and throws
 * {@link StunError} `STUN_MALFORMED`; {@link tryDecodeMessage} returns `null` for the datagram paths
 * that drop and count. Spec: `spec/stun.md` §2.
 * @module
 */

import { readUint16, readUint32, writeUint16, writeUint32 } from './bytes.js'
import { Attr, HEADER_LENGTH, MAGIC_COOKIE, type StunClass, TRANSACTION_ID_LENGTH } from './constants.js'
import { StunError } from './errors.js'

/** One attribute TLV. `padding` keeps the sender's padding bytes so re-encoding is byte-exact. */
export interface StunAttribute {
  type: number
  value: Uint8Array
  padding?: Uint8Array
}

/** A STUN message. `cookie` is the magic cookie, or for RFC 3489 clients the first 4 id bytes. */
export interface StunMessage {
  method: number
  cls: StunClass
  transactionId: Uint8Array
  cookie?: number
  attributes: StunAttribute[]
}

/** An attribute as found on the wire, with the offset of its 4-byte header inside the message. */
export interface DecodedAttribute extends StunAttribute {
  offset: number
}

/** A decoded message; `raw` is the exact bytes, kept so integrity and fingerprint can be checked. */
export interface DecodedMessage extends StunMessage {
  cookie: number
  attributes: DecodedAttribute[]
  raw: Uint8Array
}

/** Options of {@link decodeMessage}. */
export interface DecodeOptions {
  /** Accept RFC 3489 messages without the magic cookie (RFC 8489 §12). Default false. */
  allowClassic?: boolean
}

/** RFC 8489 §5: interleaves the 12 method bits with the two class bits. */
export function encodeMessageType(method: number, cls: StunClass): number {
  return (
    ((method & 0xf80) << 2) | ((method & 0x070) << 1) | (method & 0x00f) | ((cls & 2) << 7) | ((cls & 1) << 4)
  )
}

/** Inverse of {@link encodeMessageType}. */
export function decodeMessageType(type: number): { method: number; cls: StunClass } {
  const method = ((type & 0x3e00) >> 2) | ((type & 0x00e0) >> 1) | (type & 0x000f)
  const cls = (((type >> 7) & 2) | ((type >> 4) & 1)) as StunClass
  return { method, cls }
}

/** Bytes of padding after a value of `length` bytes (RFC 8489 §14: 32-bit alignment). */
export function paddingLength(length: number): number {
  return (4 - (length % 4)) % 4
}

/**
 * True when `bytes` looks like an RFC 5389/8489 STUN message: first two bits zero, length a multiple
 * of 4 matching the datagram, and the magic cookie (RFC 8489 §5, §7). Lets a socket shared with the
 * DHT demultiplex cheaply before decoding.
 */
export function isStunMessage(bytes: Uint8Array): boolean {
  if (bytes.length < HEADER_LENGTH || (bytes[0]! & 0xc0) !== 0) return false
  const length = readUint16(bytes, 2)
  return length % 4 === 0 && length + HEADER_LENGTH === bytes.length && readUint32(bytes, 4) === MAGIC_COOKIE
}

/** Encodes `message` (attributes in order, padding as given or zeros). Integrity is added separately. */
export function encodeMessage(message: StunMessage): Uint8Array {
  const bodyLength = message.attributes.reduce(
    (sum, a) => sum + 4 + a.value.length + paddingLength(a.value.length),
    0,
  )
  const out = new Uint8Array(HEADER_LENGTH + bodyLength)
  writeHeader(out, message, bodyLength)
  let offset = HEADER_LENGTH
  for (const attribute of message.attributes) offset = writeAttribute(out, offset, attribute)
  return out
}

function writeHeader(out: Uint8Array, message: StunMessage, bodyLength: number): void {
  if (message.transactionId.length !== TRANSACTION_ID_LENGTH) {
    throw StunError.invalidArgument(`transaction id must be ${TRANSACTION_ID_LENGTH} bytes`)
  }
  writeUint16(out, 0, encodeMessageType(message.method, message.cls))
  writeUint16(out, 2, bodyLength)
  writeUint32(out, 4, message.cookie ?? MAGIC_COOKIE)
  out.set(message.transactionId, 8)
}

function writeAttribute(out: Uint8Array, offset: number, attribute: StunAttribute): number {
  if (attribute.value.length > 0xffff) throw StunError.invalidArgument('attribute value over 65535 bytes')
  writeUint16(out, offset, attribute.type)
  writeUint16(out, offset + 2, attribute.value.length)
  out.set(attribute.value, offset + 4)
  const pad = paddingLength(attribute.value.length)
  if (attribute.padding?.length === pad) out.set(attribute.padding, offset + 4 + attribute.value.length)
  return offset + 4 + attribute.value.length + pad
}

/** Decodes one message; throws {@link StunError} `STUN_MALFORMED` on any framing violation. */
export function decodeMessage(bytes: Uint8Array, options: DecodeOptions = {}): DecodedMessage {
  checkHeader(bytes, options)
  const { method, cls } = decodeMessageType(readUint16(bytes, 0))
  return {
    method,
    cls,
    cookie: readUint32(bytes, 4),
    transactionId: bytes.slice(8, HEADER_LENGTH),
    attributes: decodeAttributes(bytes),
    raw: bytes,
  }
}

/** {@link decodeMessage}, but `null` instead of throwing (for paths that drop bad datagrams). */
export function tryDecodeMessage(bytes: Uint8Array, options: DecodeOptions = {}): DecodedMessage | null {
  try {
    return decodeMessage(bytes, options)
  } catch {
    return null
  }
}

function checkHeader(bytes: Uint8Array, options: DecodeOptions): void {
  if (bytes.length < HEADER_LENGTH) throw StunError.malformed(`${bytes.length} bytes, header needs 20`)
  if ((bytes[0]! & 0xc0) !== 0) throw StunError.malformed('first two bits are not zero')
  const length = readUint16(bytes, 2)
  if (length % 4 !== 0) throw StunError.malformed(`length ${length} is not a multiple of 4`)
  if (length + HEADER_LENGTH !== bytes.length) {
    throw StunError.malformed(`length field ${length} but ${bytes.length - HEADER_LENGTH} body bytes`)
  }
  if (!options.allowClassic && readUint32(bytes, 4) !== MAGIC_COOKIE)
    throw StunError.malformed('bad magic cookie')
}

function decodeAttributes(bytes: Uint8Array): DecodedAttribute[] {
  const attributes: DecodedAttribute[] = []
  for (let offset = HEADER_LENGTH; offset < bytes.length; ) {
    if (offset + 4 > bytes.length) throw StunError.malformed('truncated attribute header')
    const type = readUint16(bytes, offset)
    const length = readUint16(bytes, offset + 2)
    const end = offset + 4 + length + paddingLength(length)
    if (end > bytes.length) throw StunError.malformed(`attribute 0x${type.toString(16)} overruns the message`)
    const value = bytes.slice(offset + 4, offset + 4 + length)
    attributes.push({ type, value, padding: bytes.slice(offset + 4 + length, end), offset })
    offset = end
  }
  return attributes
}

/**
 * The attributes a receiver acts on (RFC 8489 §14.5-§14.7): after MESSAGE-INTEGRITY only
 * MESSAGE-INTEGRITY-SHA256 and FINGERPRINT count, after MESSAGE-INTEGRITY-SHA256 only FINGERPRINT,
 * after FINGERPRINT nothing.
 */
export function significantAttributes<T extends StunAttribute>(attributes: T[]): T[] {
  const out: T[] = []
  let allowed: ReadonlySet<number> | null = null
  for (const attribute of attributes) {
    if (allowed && !allowed.has(attribute.type)) continue
    out.push(attribute)
    allowed = TRAILING_AFTER.get(attribute.type) ?? allowed
  }
  return out
}

const TRAILING_AFTER: ReadonlyMap<number, ReadonlySet<number>> = new Map([
  [Attr.messageIntegrity, new Set<number>([Attr.messageIntegritySha256, Attr.fingerprint])],
  [Attr.messageIntegritySha256, new Set<number>([Attr.fingerprint])],
  [Attr.fingerprint, new Set<number>()],
])

/** The first attribute of `type`, as RFC 8489 §14 says only the first occurrence counts. */
export function findAttribute<T extends StunAttribute>(
  message: { attributes: T[] },
  type: number,
): T | undefined {
  return message.attributes.find((a) => a.type === type)
}
