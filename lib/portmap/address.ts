import { isIPv4 } from 'node:net'

/**
 * IPv4 addresses in the 16-byte IPv4-mapped IPv6 form PCP uses everywhere (RFC 6887 §5, RFC 4291
 * §2.5.5.2). We only map IPv4 (spec/portmap.md §1), so anything else is refused here.
 */

/** `a.b.c.d` -> `::ffff:a.b.c.d` as 16 bytes. */
export function ipv4ToMapped(ip: string): Uint8Array {
  if (!isIPv4(ip)) throw new TypeError(`not an IPv4 address: ${ip}`)
  const out = new Uint8Array(16)
  out[10] = 0xff
  out[11] = 0xff
  out.set(ip.split('.').map(Number), 12)
  return out
}

/** 16 bytes -> `a.b.c.d` when IPv4-mapped, else `null` (an IPv6 external address is not ours to use). */
export function mappedToIpv4(bytes: Uint8Array): string | null {
  if (bytes.length !== 16) return null
  const prefixOk = bytes.subarray(0, 10).every((b) => b === 0) && bytes[10] === 0xff && bytes[11] === 0xff
  return prefixOk ? bytes.subarray(12).join('.') : null
}
