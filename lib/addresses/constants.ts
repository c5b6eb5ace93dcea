/**
 * The address classification table of `spec/addresses.md` §2, as data: the first matching prefix
 * wins (longest prefixes first where they nest). Sources: RFC 6890 (special-purpose registries),
 * RFC 1918, RFC 6598 (CGNAT), RFC 3927/4291 (link-local), RFC 4193 (ULA).
 * @module
 */

/**
 * How far an address reaches. `unusable` covers unspecified, multicast, broadcast and reserved
 * addresses: never advertised, rejected on input.
 */
export type AddressScope = 'loopback' | 'link-local' | 'private' | 'cgnat' | 'public' | 'unusable'

/** One row: a prefix (address text and length) and its scope. */
export interface ScopeRule {
  prefix: string
  length: number
  scope: AddressScope
  note: string
}

/**
 * Documentation ranges (192.0.2/24, 198.51.100/24, 203.0.113/24, 2001:db8::/32) and benchmarking
 * (198.18/15) fall through to `public` on purpose: the network-namespace lab uses 203.0.113/24 as
 * its Internet, and these ranges are never routed on the real one, so treating them as public
 * cannot leak anything.
 */
export const SCOPE_RULES: readonly ScopeRule[] = [
  { prefix: '0.0.0.0', length: 8, scope: 'unusable', note: '"this network" incl. 0.0.0.0 (RFC 6890)' },
  { prefix: '127.0.0.0', length: 8, scope: 'loopback', note: 'RFC 1122' },
  { prefix: '169.254.0.0', length: 16, scope: 'link-local', note: 'RFC 3927' },
  { prefix: '10.0.0.0', length: 8, scope: 'private', note: 'RFC 1918' },
  { prefix: '172.16.0.0', length: 12, scope: 'private', note: 'RFC 1918' },
  { prefix: '192.168.0.0', length: 16, scope: 'private', note: 'RFC 1918' },
  { prefix: '100.64.0.0', length: 10, scope: 'cgnat', note: 'shared address space, RFC 6598' },
  { prefix: '224.0.0.0', length: 4, scope: 'unusable', note: 'multicast' },
  { prefix: '240.0.0.0', length: 4, scope: 'unusable', note: 'reserved, incl. broadcast' },
  { prefix: '::', length: 128, scope: 'unusable', note: 'unspecified' },
  { prefix: '::1', length: 128, scope: 'loopback', note: 'RFC 4291' },
  { prefix: 'fe80::', length: 10, scope: 'link-local', note: 'RFC 4291' },
  { prefix: 'fec0::', length: 10, scope: 'private', note: 'deprecated site-local, RFC 3879' },
  { prefix: 'fc00::', length: 7, scope: 'private', note: 'unique local (ULA), RFC 4193' },
  { prefix: 'ff00::', length: 8, scope: 'unusable', note: 'multicast' },
]

/** How often the interface list is polled for changes by default (ms). */
export const DEFAULT_INTERFACE_POLL_MS = 10_000
