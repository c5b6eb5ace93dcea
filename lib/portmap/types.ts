/** Shared types of `lib/portmap` (spec/portmap.md §1). */

/** Which protocol made a mapping. */
export type MappingMethod = 'pcp' | 'natpmp' | 'upnp'
/** Transport protocol of a mapping. */
export type TransportProtocol = 'tcp' | 'udp'

/** What the caller asks for. */
export interface MapRequest {
  protocol: TransportProtocol
  internalPort: number
  /** Preferred external port; the gateway may assign another. Default: `internalPort`. */
  externalPort?: number
  /** Requested lifetime in seconds; default 7200 (RFC 6886 §3.3). */
  lifetimeS?: number
}

/**
 * What a gateway granted, as one method reports it. `lifetimeS` 0 = permanent (UPnP only); `epoch` is
 * the server's epoch from a NAT-PMP / PCP reply (RFC 6886 §3.6, RFC 6887 §8.5).
 */
export interface Grant {
  protocol: TransportProtocol
  internalPort: number
  externalHost: string
  externalPort: number
  lifetimeS: number
  epoch?: number
}

/** A live mapping as {@link PortMapper} reports it. `expiresAt` is ms since the epoch, Infinity if permanent. */
export interface Mapping {
  protocol: TransportProtocol
  internalPort: number
  externalHost: string
  externalPort: number
  method: MappingMethod
  expiresAt: number
}

/** A {@link MapRequest} with every default filled in. */
export type ResolvedMapRequest = Required<MapRequest>

/** Where a NAT-PMP / PCP server listens. */
export interface GatewayEndpoint {
  host: string
  port: number
}

/** One port-mapping protocol, as {@link PortMapper} drives it (spec/portmap.md §2). */
export interface MethodDriver {
  readonly method: MappingMethod
  externalAddress(signal?: AbortSignal): Promise<string>
  /** Creates or renews (same request again) a mapping. */
  map(req: ResolvedMapRequest, signal?: AbortSignal): Promise<Grant>
  /** Deletes a mapping this driver granted. */
  unmap(grant: Grant, signal?: AbortSignal): Promise<void>
}
