/**
 * Which addresses may go into a record that everyone on a DHT can read (`spec/addresses.md`,
 * `spec/pairing.md` §3.1): a pairing advert sits under a public rendezvous key, so any DHT node can
 * fetch it. An address goes in only if a node of that DHT could plausibly reach it: private-range and
 * loopback addresses stay out of adverts on a DHT whose nodes are public, and a loopback or LAN DHT
 * (tests, a home network) still gets its own addresses.
 * @module
 */
import { classifyIp, REACHABLE_SCOPES } from './classify.js'
import type { AddressScope } from './constants.js'

/** Scopes from narrowest to widest: the DHT's scope is the widest one its nodes are in. */
const WIDENING: readonly Exclude<AddressScope, 'unusable'>[] = [
  'loopback',
  'link-local',
  'private',
  'cgnat',
  'public',
]

/** The DHT's reach, as far as this node knows it. */
export type DhtScope = Exclude<AddressScope, 'unusable'>

/**
 * The scope of the DHT a node takes part in: the widest scope among its bootstrap hosts and its own
 * bound host. A host name, an unusable address or a wildcard bind without bootstrap nodes says nothing
 * about who is there, so it counts as `public` (the strictest rule).
 */
export function dhtScope(bootstrapHosts: readonly string[], boundHost: string): DhtScope {
  const hosts = isWildcard(boundHost) ? bootstrapHosts : [...bootstrapHosts, boundHost]
  if (hosts.length === 0) return 'public'
  const scopes = hosts
    .map((host) => classifyIp(host))
    .map((scope) => (scope === 'unusable' ? 'public' : scope))
  return WIDENING[Math.max(...scopes.map((scope) => WIDENING.indexOf(scope)))]!
}

/**
 * The addresses (in their order) fit for a record readable by every node of a DHT of scope `scope`:
 * those a node there can reach (`REACHABLE_SCOPES`). On a public DHT that is public addresses only.
 */
export function publishableAddresses<A extends { host: string }>(
  addresses: readonly A[],
  scope: DhtScope,
): A[] {
  const allowed = REACHABLE_SCOPES[scope]
  return addresses.filter((address) => allowed.includes(classifyIp(address.host)))
}

/** The host part of a `HOST:PORT` / `[V6]:PORT` endpoint string. */
export function endpointHost(endpoint: string): string {
  const bracketed = /^\[([^\]]+)\](?::\d+)?$/.exec(endpoint)
  if (bracketed) return bracketed[1]!
  const colon = endpoint.lastIndexOf(':')
  return colon > 0 && endpoint.indexOf(':') === colon ? endpoint.slice(0, colon) : endpoint
}

/** The unspecified address of either family: a bind to every interface. */
export function isWildcard(host: string): boolean {
  return host === '0.0.0.0' || host === '::'
}
