/**
 * The addresses a node can truthfully advertise: real bound ports on interface addresses, STUN
 * mappings, port mappings, DHT observations; classified, scoped, deduplicated, refreshed.
 * Spec: `spec/addresses.md`.
 * @module
 */
export {
  type Address,
  AddressBook,
  type AddressCandidate,
  type AddressEvent,
  type AddressProtocol,
  type AddressSource,
  type BoundPorts,
  type InterfaceList,
  interfaceCandidates,
} from './book.js'
export { classifyIp, REACHABLE_SCOPES } from './classify.js'
export { type AddressScope, DEFAULT_INTERFACE_POLL_MS, SCOPE_RULES, type ScopeRule } from './constants.js'
export { AddressError } from './errors.js'
export {
  bytesToIp,
  canonicalIp,
  formatEndpoint,
  type IpFamily,
  ipFamily,
  ipToBytes,
  stripZone,
  unmapIpv4,
} from './ip.js'
export { isOnLink, isOwnAddress, isPublicOffLink } from './local.js'
export { AddressManager, type AddressManagerOptions } from './manager.js'
export { type DhtScope, dhtScope, endpointHost, isWildcard, publishableAddresses } from './policy.js'
