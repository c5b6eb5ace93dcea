/**
 * Port mapping on the local gateway: PCP (RFC 6887), NAT-PMP (RFC 6886), UPnP IGD. spec/portmap.md.
 */
export { PortmapError } from './errors.js'
export { type Clock, PortMapper, type PortMapperEvents, type PortMapperOptions } from './port-mapper.js'
export type { Mapping, MappingMethod, MapRequest, TransportProtocol } from './types.js'
