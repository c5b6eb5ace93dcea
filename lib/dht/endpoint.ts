import { hash } from 'node:crypto'
import { utf8 } from '../crypto/index.js'
import { type Address, encodeAddress, type Grouping, ipv6Text } from './address.js'
import { Domain } from './constants.js'

/**
 * Compact endpoints and node ids as one-byte strings, char i = byte i: the form the routing table and
 * lookups keep (`spec/dht.md` §8.4). V8 stores an n-char one-byte string in 12 + n bytes rounded to 8
 * and a Uint8Array in about 200, so a table entry holding its id and endpoint as strings is 4-5x
 * smaller; strings also compare with `===` and key Maps without a conversion.
 */
export type ByteText = string

const ID_DOMAIN = utf8(Domain.NODE_ID)
/** Work buffer of {@link nodeIdText}: the domain, then room for the longest endpoint. */
const idInput = Buffer.alloc(ID_DOMAIN.length + 18)
idInput.set(ID_DOMAIN)

/** The one-byte string of `bytes`. */
export function textOf(bytes: Uint8Array): ByteText {
  return String.fromCharCode.apply(null, bytes as unknown as number[])
}

/** The bytes of a one-byte string (inverse of {@link textOf}). */
export function bytesOf(text: ByteText): Uint8Array {
  const out = new Uint8Array(text.length)
  for (let i = 0; i < text.length; i++) out[i] = text.charCodeAt(i)
  return out
}

/** True when the id `bytes` equals the id `text` (ids are public: no constant-time compare needed). */
export function equalsText(bytes: Uint8Array, text: ByteText): boolean {
  if (bytes.length !== text.length) return false
  for (let i = 0; i < bytes.length; i++) if (bytes[i] !== text.charCodeAt(i)) return false
  return true
}

/** The compact endpoint (§3.1) of `address` as text: 6 chars (IPv4) or 18 (IPv6). */
export function endpointText(address: Address): ByteText {
  return textOf(encodeAddress(address))
}

/**
 * The node id bound to a compact endpoint (§4.1), as text: `SHA-256(domain || endpoint)`. Node's
 * one-shot `hash` writing latin1 ('binary'): 0.7 µs where a Hash object and byte copies took 3 (every unknown
 * contact a reply names is hashed, §8.4).
 */
export function nodeIdText(endpoint: ByteText): ByteText {
  const end = idInput.write(endpoint, ID_DOMAIN.length, 'latin1') + ID_DOMAIN.length
  return hash('sha256', idInput.subarray(0, end), 'binary')
}

/** The endpoint's port (its last two bytes, big-endian). */
export function portOf(endpoint: ByteText): number {
  return endpoint.charCodeAt(endpoint.length - 2) * 256 + endpoint.charCodeAt(endpoint.length - 1)
}

/** The endpoint's host in text form: dotted quad, or RFC 5952 IPv6. */
export function hostOf(endpoint: ByteText): string {
  if (endpoint.length === 6)
    return `${endpoint.charCodeAt(0)}.${endpoint.charCodeAt(1)}.${endpoint.charCodeAt(2)}.${endpoint.charCodeAt(3)}`
  const groups: number[] = []
  for (let i = 0; i < 16; i += 2) groups.push(endpoint.charCodeAt(i) * 256 + endpoint.charCodeAt(i + 1))
  return ipv6Text(groups)
}

/**
 * The diversity group (§8.3) of an endpoint as text: the /24 (3 bytes) or /64 (8 bytes) prefix under
 * `subnet`, the whole endpoint under `endpoint`.
 */
export function groupText(endpoint: ByteText, grouping: Grouping): ByteText {
  if (grouping === 'endpoint') return endpoint
  return endpoint.slice(0, endpoint.length === 6 ? 3 : 8)
}

/** True when `endpoint` is in group `group` (see {@link groupText}), without building a string. */
export function inGroup(endpoint: ByteText, group: ByteText): boolean {
  return endpoint.startsWith(group)
}
