/**
 * The address attributes: MAPPED-ADDRESS (RFC 8489 §14.1, also RFC 5780 RESPONSE-ORIGIN and
 * OTHER-ADDRESS, RFC 3489 SOURCE-/CHANGED-ADDRESS) and XOR-MAPPED-ADDRESS (RFC 8489 §14.2).
 * Spec: `spec/stun.md` §3.
 * @module
 */
import { bytesToIp, type IpFamily, ipToBytes, unmapIpv4 } from '../addresses/ip.js'
import { readUint16, writeUint16, writeUint32 } from './bytes.js'
import { AddressFamily, MAGIC_COOKIE } from './constants.js'
import { StunError } from './errors.js'

/** A transport address: IP literal and port. */
export interface Endpoint {
  host: string
  port: number
}

/** A transport address with its family, as decoded from an address attribute. */
export interface FamilyEndpoint extends Endpoint {
  family: IpFamily
}

/**
 * Encodes an address attribute value. With `transactionId`, it is XOR-MAPPED-ADDRESS: the port is
 * XORed with the cookie's top 16 bits, the address with the cookie (IPv4) or cookie ‖ id (IPv6).
 */
export function encodeAddress(endpoint: Endpoint, transactionId?: Uint8Array): Uint8Array {
  const ip = ipToBytes(unmapIpv4(endpoint.host))
  if (!ip) throw StunError.invalidArgument(`not an IP address: ${endpoint.host}`)
  const out = new Uint8Array(4 + ip.length)
  out[1] = ip.length === 4 ? AddressFamily.ipv4 : AddressFamily.ipv6
  writeUint16(out, 2, endpoint.port)
  out.set(ip, 4)
  return transactionId ? xorAddress(out, transactionId) : out
}

/** Decodes an address attribute value (XOR form when `transactionId` is given). */
export function decodeAddress(value: Uint8Array, transactionId?: Uint8Array): FamilyEndpoint {
  const family = value[1]
  const expected = family === AddressFamily.ipv4 ? 8 : family === AddressFamily.ipv6 ? 20 : -1
  if (expected === -1) throw StunError.malformed(`unknown address family ${family}`)
  if (value.length !== expected) throw StunError.malformed(`address attribute of ${value.length} bytes`)
  const plain = transactionId ? xorAddress(value, transactionId) : value
  return {
    host: bytesToIp(plain.subarray(4)),
    port: readUint16(plain, 2),
    family: family === AddressFamily.ipv4 ? 'IPv4' : 'IPv6',
  }
}

/** XOR is its own inverse, so this both obfuscates and recovers (RFC 8489 §14.2). */
function xorAddress(value: Uint8Array, transactionId: Uint8Array): Uint8Array {
  const mask = new Uint8Array(16)
  writeUint32(mask, 0, MAGIC_COOKIE)
  mask.set(transactionId, 4)
  const out = value.slice()
  out[2]! ^= mask[0]!
  out[3]! ^= mask[1]!
  for (let i = 4; i < out.length; i++) out[i]! ^= mask[i - 4]!
  return out
}
