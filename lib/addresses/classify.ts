/**
 * Address classification (`spec/addresses.md` §2) and which scopes may be offered to a peer at a
 * given scope (§3).
 * @module
 */
import { type AddressScope, SCOPE_RULES } from './constants.js'
import { ipToBytes, unmapIpv4 } from './ip.js'

/** The scope of an IP literal; IPv4-mapped IPv6 is classified as its IPv4 address. */
export function classifyIp(host: string): AddressScope {
  const bytes = ipToBytes(unmapIpv4(host))
  if (!bytes) return 'unusable'
  const rule = SCOPE_RULES.find((r) => matchesPrefix(bytes, r.prefix, r.length))
  return rule?.scope ?? 'public'
}

function matchesPrefix(bytes: Uint8Array, prefix: string, length: number): boolean {
  const base = ipToBytes(prefix)!
  if (base.length !== bytes.length) return false
  for (let bit = 0; bit < length; bit++) {
    const mask = 0x80 >> (bit % 8)
    if ((bytes[bit >> 3]! & mask) !== (base[bit >> 3]! & mask)) return false
  }
  return true
}

/**
 * Scopes a peer seen at `peerScope` can plausibly reach (§3): the same host reaches everything,
 * a LAN peer reaches LAN and beyond, a CGNAT peer (e.g. a Tailscale-style overlay) the CGNAT space
 * and the Internet, an Internet peer only public addresses.
 */
export const REACHABLE_SCOPES: Record<Exclude<AddressScope, 'unusable'>, readonly AddressScope[]> = {
  loopback: ['loopback', 'link-local', 'private', 'cgnat', 'public'],
  'link-local': ['link-local', 'private', 'cgnat', 'public'],
  private: ['private', 'cgnat', 'public'],
  cgnat: ['cgnat', 'public'],
  public: ['public'],
}
