/**
 * IP address text ⇄ bytes, for the STUN address attributes (RFC 8489 §14.1) and the address
 * classification of `spec/addresses.md` §2. IPv6 text is written in RFC 5952 canonical form.
 * @module
 */
import { isIPv4, isIPv6 } from 'node:net'

/** Node's family names, as `os.networkInterfaces()` and `dgram` report them. */
export type IpFamily = 'IPv4' | 'IPv6'

/** The family of `host`, or `null` when it is not an IP literal. */
export function ipFamily(host: string): IpFamily | null {
  if (isIPv4(host)) return 'IPv4'
  return isIPv6(stripZone(host)) ? 'IPv6' : null
}

/** Drops an IPv6 zone suffix (`fe80::1%eth0` → `fe80::1`): zones are local, never on the wire. */
export function stripZone(host: string): string {
  const percent = host.indexOf('%')
  return percent === -1 ? host : host.slice(0, percent)
}

/** 4 bytes of an IPv4 literal or 16 of an IPv6 one; `null` when `host` is not an IP literal. */
export function ipToBytes(host: string): Uint8Array | null {
  if (isIPv4(host)) return ipv4ToBytes(host)
  const bare = stripZone(host)
  return isIPv6(bare) ? ipv6ToBytes(bare) : null
}

function ipv4ToBytes(text: string): Uint8Array {
  const out = new Uint8Array(4)
  let part = 0
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i)
    if (c === 46) part++
    else out[part] = out[part]! * 10 + c - 48
  }
  return out
}

function ipv6ToBytes(text: string): Uint8Array {
  const out = new Uint8Array(16)
  const lastColon = text.lastIndexOf(':')
  const tail = text.slice(lastColon + 1)
  // An embedded dotted quad (::ffff:1.2.3.4) stands for the last two groups.
  const v4 = tail.includes('.') ? ipToBytes(tail) : null
  const groupsText = v4 ? `${text.slice(0, lastColon + 1)}0:0` : text
  const [head = '', rest] = groupsText.split('::')
  const headGroups = head === '' ? [] : head.split(':')
  const restGroups = rest === undefined || rest === '' ? [] : rest.split(':')
  const groups = [
    ...headGroups,
    ...new Array(8 - headGroups.length - restGroups.length).fill('0'),
    ...restGroups,
  ]
  groups.forEach((g, i) => {
    const value = Number.parseInt(g, 16)
    out[i * 2] = value >> 8
    out[i * 2 + 1] = value & 0xff
  })
  if (v4) out.set(v4, 12)
  return out
}

/** Text of 4 or 16 address bytes (IPv6 in RFC 5952 form: lowercase, longest zero run as `::`). */
export function bytesToIp(bytes: Uint8Array): string {
  if (bytes.length === 4) return Array.from(bytes).join('.')
  if (bytes.length !== 16) throw new RangeError(`an IP address is 4 or 16 bytes, got ${bytes.length}`)
  const groups = Array.from({ length: 8 }, (_, i) => (bytes[i * 2]! << 8) | bytes[i * 2 + 1]!)
  const [start, length] = longestZeroRun(groups)
  const hex = groups.map((g) => g.toString(16))
  if (length < 2) return hex.join(':')
  return `${hex.slice(0, start).join(':')}::${hex.slice(start + length).join(':')}`
}

function longestZeroRun(groups: number[]): [number, number] {
  let best: [number, number] = [0, 0]
  let runStart = -1
  groups.forEach((g, i) => {
    if (g !== 0) runStart = -1
    else {
      if (runStart === -1) runStart = i
      if (i - runStart + 1 > best[1]) best = [runStart, i - runStart + 1]
    }
  })
  return best
}

/** The canonical text of an IP literal (so equal addresses compare equal as strings). */
export function canonicalIp(host: string): string {
  const bytes = ipToBytes(host)
  return bytes ? bytesToIp(bytes) : host
}

/** An IPv4-mapped IPv6 address (`::ffff:a.b.c.d`, RFC 4291 §2.5.5.2) as its IPv4 text; else `host`. */
export function unmapIpv4(host: string): string {
  if (!host.includes(':')) return host
  const bytes = ipToBytes(host)
  if (bytes?.length !== 16) return host
  const mapped = bytes.subarray(0, 10).every((b) => b === 0) && bytes[10] === 0xff && bytes[11] === 0xff
  return mapped ? bytesToIp(bytes.subarray(12)) : host
}

/** `host:port`, with IPv6 hosts in brackets (RFC 3986 §3.2.2). */
export function formatEndpoint(endpoint: { host: string; port: number }): string {
  return ipFamily(endpoint.host) === 'IPv6'
    ? `[${endpoint.host}]:${endpoint.port}`
    : `${endpoint.host}:${endpoint.port}`
}
