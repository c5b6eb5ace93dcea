/**
 * Wire constants of the three port-mapping protocols (spec/portmap.md §2-§4).
 * Numbers come from RFC 6886 (NAT-PMP), RFC 6887 (PCP) and the UPnP IGD v1/v2 service documents.
 */

/** UDP port of a NAT-PMP / PCP server on the gateway (RFC 6886 §3.1, RFC 6887 §19.1). */
export const GATEWAY_PORT = 5351
/** Where NAT-PMP and PCP gateways multicast their announcements (RFC 6886 §3.2.1, RFC 6887 §8.1.3). */
export const ANNOUNCEMENT_PORT = 5350
/** The all-hosts group the announcements go to. */
export const ALL_HOSTS_GROUP = '224.0.0.1'

/** NAT-PMP protocol version (RFC 6886 §3.2). */
export const NATPMP_VERSION = 0
/** NAT-PMP opcodes; a response carries `128 + opcode` (RFC 6886 §3.2, §3.3). */
export const NATPMP_OP = { externalAddress: 0, mapUdp: 1, mapTcp: 2 } as const
/** Bit set in the opcode of every NAT-PMP / PCP response. */
export const RESPONSE_BIT = 0x80
/** NAT-PMP result codes (RFC 6886 §3.5). */
export const NATPMP_RESULT = {
  success: 0,
  unsupportedVersion: 1,
  notAuthorized: 2,
  networkFailure: 3,
  outOfResources: 4,
  unsupportedOpcode: 5,
} as const

/** PCP protocol version (RFC 6887 §7). */
export const PCP_VERSION = 2
/** PCP opcodes (RFC 6887 §19.2). */
export const PCP_OP = { announce: 0, map: 1, peer: 2 } as const
/** PCP common header size, requests and responses alike (RFC 6887 §7.1, §7.2). */
export const PCP_HEADER_SIZE = 24
/** PCP MAP opcode payload size (RFC 6887 §11.1). */
export const PCP_MAP_SIZE = 36
/** Largest PCP message (RFC 6887 §7). */
export const PCP_MAX_SIZE = 1100
/** PCP MAP nonce length (RFC 6887 §11.1). */
export const PCP_NONCE_SIZE = 12
/** PCP result codes (RFC 6887 §7.4). */
export const PCP_RESULT = {
  success: 0,
  unsuppVersion: 1,
  notAuthorized: 2,
  malformedRequest: 3,
  unsuppOpcode: 4,
  unsuppOption: 5,
  malformedOption: 6,
  networkFailure: 7,
  noResources: 8,
  unsuppProtocol: 9,
  userExQuota: 10,
  cannotProvideExternal: 11,
  addressMismatch: 12,
  excessiveRemotePeers: 13,
} as const

/** IANA protocol numbers carried in PCP MAP (RFC 6887 §11.1). */
export const IP_PROTOCOL = { tcp: 6, udp: 17 } as const

/** SSDP multicast group (UPnP Device Architecture 1.1 §1.3.2). */
export const SSDP_ADDRESS = '239.255.255.250'
/** SSDP port (UPnP Device Architecture 1.1 §1.3.2). */
export const SSDP_PORT = 1900
/** Search targets we send, most capable first (IGD v2 then v1 device types). */
export const SSDP_SEARCH_TARGETS = [
  'urn:schemas-upnp-org:device:InternetGatewayDevice:2',
  'urn:schemas-upnp-org:device:InternetGatewayDevice:1',
] as const

/** WAN connection services that can map ports, in the order we prefer them. */
export const UPNP_SERVICES = [
  'urn:schemas-upnp-org:service:WANIPConnection:2',
  'urn:schemas-upnp-org:service:WANIPConnection:1',
  'urn:schemas-upnp-org:service:WANPPPConnection:1',
] as const

/** UPnPError codes we react to (IGD v1 WANIPConnection §2.5, v2 §2.5). */
export const UPNP_ERROR = {
  noSuchEntryInArray: 714,
  conflictInMappingEntry: 718,
  onlyPermanentLeasesSupported: 725,
} as const

/** Lifetime we ask for unless told otherwise: RFC 6886 §3.3 recommends 7200 s. */
export const DEFAULT_LIFETIME_S = 7200
/** Largest response body we read from an IGD (description or SOAP), bytes. */
export const MAX_HTTP_BODY = 64 * 1024
/** Retransmission schedule for NAT-PMP, PCP and SSDP requests, ms after the first send. */
export const RETRY_SCHEDULE_MS = [0, 250, 750, 1750] as const
/** A request fails with PORTMAP_TIMEOUT this long after the first send, ms. */
export const REQUEST_DEADLINE_MS = 3750
/** HTTP timeout for description and SOAP requests, ms. */
export const HTTP_TIMEOUT_MS = 5000
