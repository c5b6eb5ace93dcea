import { isIPv4, isIPv6 } from 'node:net'
import { sha256, utf8 } from '../crypto/index.js'
import { Domain } from './constants.js'

/** A UDP endpoint: an IPv4 dotted quad or an IPv6 address in text, and a port. */
export interface Address {
  host: string
  port: number
}

/** IP family of a core: each family runs its own DHT (as BEP 32 does for BitTorrent). */
export type Family = 4 | 6

/**
 * How addresses are grouped for per-source limits (`spec/dht.md` §8.3): `subnet` groups IPv4 by /24
 * and IPv6 by /64 (production); `endpoint` groups by ip:port, for loopback networks where every node
 * is 127.0.0.1 and subnet grouping would cap the whole network at two nodes.
 */
export type Grouping = 'subnet' | 'endpoint'

const ID_DOMAIN = utf8(Domain.NODE_ID)

/** `host:port` (IPv4) or `[host]:port` (IPv6): the map key of an endpoint. */
export function addressKey(address: Address): string {
  return address.host.includes(':') ? `[${address.host}]:${address.port}` : `${address.host}:${address.port}`
}

/** Parses `host:port` or `[v6]:port`; returns null when it is not an IP literal with a valid port. */
export function parseAddress(text: string): Address | null {
  const match = /^\[([^\]]+)\]:(\d+)$/.exec(text) ?? /^([^:]+):(\d+)$/.exec(text)
  if (match === null) return null
  const port = Number(match[2])
  const host = match[1]!
  if (!(port > 0 && port < 65536) || !(isIPv4(host) || isIPv6(host))) return null
  return { host: canonicalHost(host), port }
}

/** Compact wire form (`spec/dht.md` §3.1): 4 or 16 address bytes then the port, big-endian. */
export function encodeAddress(address: Address): Uint8Array {
  const ip = ipBytes(address.host)
  const out = new Uint8Array(ip.length + 2)
  out.set(ip)
  out[ip.length] = address.port >> 8
  out[ip.length + 1] = address.port & 0xff
  return out
}

/** Inverse of {@link encodeAddress}; null unless 6 or 18 bytes with a non-zero port. */
export function decodeAddress(bytes: Uint8Array): Address | null {
  if (bytes.length !== 6 && bytes.length !== 18) return null
  const port = (bytes[bytes.length - 2]! << 8) | bytes[bytes.length - 1]!
  if (port === 0) return null
  const ip = bytes.subarray(0, bytes.length - 2)
  return { host: ip.length === 4 ? ip.join('.') : ipv6Text(groupsOf(ip)), port }
}

/** The family of a host literal. */
export function familyOf(host: string): Family {
  return host.includes(':') ? 6 : 4
}

/**
 * The node id bound to an endpoint (`spec/dht.md` §4.1):
 * `SHA-256("pairctl/dht/node-id/v1" || ip bytes || port u16be)`. Not cached: the core keeps ids of
 * the nodes it knows in its table and looks them up there first.
 */
export function nodeIdOf(address: Address): Uint8Array {
  return sha256(ID_DOMAIN, encodeAddress(address))
}

/** True for 127.0.0.0/8 and ::1: where `endpoint` grouping is the sensible default. */
export function isLoopback(host: string): boolean {
  return host === '::1' || host.startsWith('127.')
}

/** Normal text form of an IP literal (IPv6 compressed and lower case, IPv4-mapped kept as v6). */
export function canonicalHost(host: string): string {
  return isIPv4(host) ? host : ipv6Text(groupsOf(ipBytes(host)))
}

/** Bytes of a valid IP literal (callers validated it: wire decoding, parseAddress or the OS). */
function ipBytes(host: string): Uint8Array {
  if (host.includes(':')) return ipv6Bytes(host)
  const out = new Uint8Array(4)
  let part = 0
  let value = 0
  for (let i = 0; i < host.length; i++) {
    const code = host.charCodeAt(i)
    if (code === 46) {
      out[part++] = value
      value = 0
    } else value = value * 10 + code - 48
  }
  out[part] = value
  return out
}

function ipv6Bytes(host: string): Uint8Array {
  let text = host.split('%')[0]!.toLowerCase()
  const tail = /(\d+\.\d+\.\d+\.\d+)$/.exec(text)
  if (tail !== null) {
    const v4 = tail[1]!.split('.').map(Number)
    text = `${text.slice(0, -tail[1]!.length)}${((v4[0]! << 8) | v4[1]!).toString(16)}:${((v4[2]! << 8) | v4[3]!).toString(16)}`
  }
  const [head = '', rest] = text.split('::')
  const left = head === '' ? [] : head.split(':')
  const right = rest === undefined || rest === '' ? [] : rest.split(':')
  const groups = [...left, ...new Array<string>(8 - left.length - right.length).fill('0'), ...right]
  const out = new Uint8Array(16)
  groups.forEach((group, i) => {
    const value = Number.parseInt(group, 16)
    out[2 * i] = value >> 8
    out[2 * i + 1] = value & 0xff
  })
  return out
}

/** The 8 big-endian 16-bit groups of 16 IPv6 address bytes. */
function groupsOf(bytes: Uint8Array): number[] {
  const groups: number[] = []
  for (let i = 0; i < 16; i += 2) groups.push((bytes[i]! << 8) | bytes[i + 1]!)
  return groups
}

/** RFC 5952 text of 8 groups: lower case, the longest run of zero groups (>= 2) compressed to `::`. */
export function ipv6Text(groups: number[]): string {
  let bestStart = -1
  let bestLength = 1
  for (let i = 0; i < 8; i++) {
    let j = i
    while (j < 8 && groups[j] === 0) j++
    if (j - i > bestLength) [bestStart, bestLength] = [i, j - i]
    i = Math.max(i, j)
  }
  const hex = groups.map((group) => group.toString(16))
  if (bestStart < 0) return hex.join(':')
  return `${hex.slice(0, bestStart).join(':')}::${hex.slice(bestStart + bestLength).join(':')}`
}
