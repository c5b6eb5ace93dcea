/**
 * Message integrity and fingerprint (RFC 8489 §14.5-§14.7) and credential keys (§9.1.2, §9.2.2),
 * all on node:crypto. Integrity is appended to an already encoded message, because the HMAC covers
 * the header with its length field already counting the integrity attribute. Spec: `spec/stun.md` §4.
 * @module
 */
import { createHash, createHmac } from 'node:crypto'
import { crc32 } from 'node:zlib'
import { equalBytes } from '../crypto/index.js'
import { writeUint16, writeUint32 } from './bytes.js'
import {
  Attr,
  FINGERPRINT_XOR,
  HEADER_LENGTH,
  MESSAGE_INTEGRITY_LENGTH,
  MESSAGE_INTEGRITY_SHA256_LENGTH,
} from './constants.js'
import { StunError } from './errors.js'
import { type DecodedMessage, findAttribute } from './message.js'

/** Password algorithms of RFC 8489 §18.5 (MD5 is the default when none is negotiated). */
export type PasswordAlgorithm = 'md5' | 'sha256'

/**
 * Approximates the PRECIS OpaqueString profile (RFC 8265 §4.2) that RFC 8489 §9.2.2 applies:
 * non-ASCII spaces become U+0020, then NFC. Full PRECIS (rejecting disallowed code points) is not
 * implemented: callers pass already-prepared strings, as the RFC 5769 vectors do.
 */
export function opaqueString(text: string): string {
  return text.replace(/[\u00a0\u1680\u2000-\u200a\u202f\u205f\u3000]/g, ' ').normalize('NFC')
}

/** RFC 8489 §9.1.2: the short-term key is the OpaqueString-processed password. */
export function shortTermKey(password: string): Uint8Array {
  return new TextEncoder().encode(opaqueString(password))
}

/** Long-term credentials (RFC 8489 §9.2). */
export interface LongTermCredentials {
  username: string
  realm: string
  password: string
}

/** RFC 8489 §9.2.2: key = MD5 or SHA-256 of `username ":" OpaqueString(realm) ":" OpaqueString(password)`. */
export function longTermKey(
  credentials: LongTermCredentials,
  algorithm: PasswordAlgorithm = 'md5',
): Uint8Array {
  const input = `${credentials.username}:${opaqueString(credentials.realm)}:${opaqueString(credentials.password)}`
  return new Uint8Array(createHash(algorithm).update(input, 'utf8').digest())
}

/** RFC 8489 §14.4: USERHASH = SHA-256(OpaqueString(username ":" realm)). */
export function userhash(username: string, realm: string): Uint8Array {
  return new Uint8Array(
    createHash('sha256')
      .update(opaqueString(`${username}:${realm}`), 'utf8')
      .digest(),
  )
}

/** Appends MESSAGE-INTEGRITY (HMAC-SHA1, RFC 8489 §14.5) to an encoded message. */
export function addMessageIntegrity(message: Uint8Array, key: Uint8Array): Uint8Array {
  return appendComputed(message, Attr.messageIntegrity, MESSAGE_INTEGRITY_LENGTH, (covered) =>
    hmac('sha1', key, covered),
  )
}

/** Appends MESSAGE-INTEGRITY-SHA256 (HMAC-SHA256, RFC 8489 §14.6) to an encoded message. */
export function addMessageIntegritySha256(message: Uint8Array, key: Uint8Array): Uint8Array {
  return appendComputed(message, Attr.messageIntegritySha256, MESSAGE_INTEGRITY_SHA256_LENGTH, (covered) =>
    hmac('sha256', key, covered),
  )
}

/** Appends FINGERPRINT (CRC-32 XOR 0x5354554E, RFC 8489 §14.7); it must be the last attribute. */
export function addFingerprint(message: Uint8Array): Uint8Array {
  return appendComputed(message, Attr.fingerprint, 4, (covered) => fingerprintValue(covered))
}

/** Verifies the MESSAGE-INTEGRITY of a decoded message with `key`; false when absent or wrong. */
export function verifyMessageIntegrity(message: DecodedMessage, key: Uint8Array): boolean {
  return verifyComputed(message, Attr.messageIntegrity, (covered) => hmac('sha1', key, covered))
}

/** Verifies MESSAGE-INTEGRITY-SHA256 (possibly truncated to ≥ 16 bytes, RFC 8489 §14.6). */
export function verifyMessageIntegritySha256(message: DecodedMessage, key: Uint8Array): boolean {
  const attribute = findAttribute(message, Attr.messageIntegritySha256)
  const length = attribute?.value.length ?? 0
  if (length < 16 || length > 32 || length % 4 !== 0) return false
  return verifyComputed(message, Attr.messageIntegritySha256, (covered) =>
    hmac('sha256', key, covered).subarray(0, length),
  )
}

/** Verifies FINGERPRINT; false when absent, not last, or wrong. */
export function verifyFingerprint(message: DecodedMessage): boolean {
  const last = message.attributes.at(-1)
  if (last?.type !== Attr.fingerprint) return false
  return verifyComputed(message, Attr.fingerprint, fingerprintValue)
}

/** Checks MESSAGE-INTEGRITY, MESSAGE-INTEGRITY-SHA256 (whichever are present) and FINGERPRINT if present. */
export function verifyMessage(message: DecodedMessage, key?: Uint8Array): void {
  if (findAttribute(message, Attr.fingerprint) && !verifyFingerprint(message)) {
    throw StunError.integrityFailed('FINGERPRINT')
  }
  if (!key) return
  const hasSha1 = findAttribute(message, Attr.messageIntegrity) !== undefined
  const hasSha256 = findAttribute(message, Attr.messageIntegritySha256) !== undefined
  if (!hasSha1 && !hasSha256) throw StunError.integrityFailed('missing MESSAGE-INTEGRITY')
  if (hasSha1 && !verifyMessageIntegrity(message, key)) throw StunError.integrityFailed('MESSAGE-INTEGRITY')
  if (hasSha256 && !verifyMessageIntegritySha256(message, key)) {
    throw StunError.integrityFailed('MESSAGE-INTEGRITY-SHA256')
  }
}

function appendComputed(
  message: Uint8Array,
  type: number,
  length: number,
  compute: (covered: Uint8Array) => Uint8Array,
): Uint8Array {
  const out = new Uint8Array(message.length + 4 + length)
  out.set(message)
  writeUint16(out, 2, out.length - HEADER_LENGTH)
  writeUint16(out, message.length, type)
  writeUint16(out, message.length + 2, length)
  out.set(compute(out.subarray(0, message.length)), message.length + 4)
  return out
}

/** Recomputes over the bytes before the attribute, with the length field as the sender had it. */
function verifyComputed(
  message: DecodedMessage,
  type: number,
  compute: (covered: Uint8Array) => Uint8Array,
): boolean {
  const attribute = findAttribute(message, type)
  if (!attribute) return false
  const covered = message.raw.slice(0, attribute.offset)
  writeUint16(covered, 2, attribute.offset + 4 + attribute.value.length - HEADER_LENGTH)
  return equalBytes(compute(covered), attribute.value)
}

function hmac(algorithm: 'sha1' | 'sha256', key: Uint8Array, data: Uint8Array): Uint8Array {
  return new Uint8Array(createHmac(algorithm, key).update(data).digest())
}

function fingerprintValue(covered: Uint8Array): Uint8Array {
  const out = new Uint8Array(4)
  writeUint32(out, 0, (crc32(covered) ^ FINGERPRINT_XOR) >>> 0)
  return out
}
