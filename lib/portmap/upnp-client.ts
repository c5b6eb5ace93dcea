import { randomInt } from 'node:crypto'
import { isIPv4 } from 'node:net'
import { SSDP_ADDRESS, SSDP_PORT, SSDP_SEARCH_TARGETS, UPNP_ERROR } from './constants.js'
import { PortmapError } from './errors.js'
import { httpRequest } from './http.js'
import { decodeDescription, decodeSoapResponse, encodeSoapRequest, type IgdService } from './soap.js'
import { decodeSsdpResponse, encodeMSearch, type SsdpResponse } from './ssdp.js'
import type { Peer } from './transaction.js'
import { udpExchange } from './transport.js'
import type { Grant, MethodDriver, ResolvedMapRequest } from './types.js'

/** Options of {@link UpnpClient}. */
export interface UpnpOptions {
  /** Only accept an IGD at this address (the gateway). */
  gateway?: string
  /** Where M-SEARCH goes; default the SSDP multicast group. Tests point it at a loopback fake. */
  ssdp?: { host: string; port: number }
  /** Skip SSDP and use this device description. */
  descriptionUrl?: URL
  /** `NewPortMappingDescription` of our mappings. */
  description?: string
}

interface Located extends IgdService {
  localAddress: string
}

/** Tries after ConflictInMappingEntry (718) with another random external port. */
const CONFLICT_RETRIES = 3

/**
 * UPnP IGD client (spec/portmap.md §5): SSDP search, description, then AddPortMapping /
 * DeletePortMapping / GetExternalIPAddress on WANIPConnection:2, :1 or WANPPPConnection:1 (same action
 * signatures in all three). A reserved or private external address is accepted: the lab's IGD has one
 * and a double NAT has one too; whether the address is reachable is for the caller to find out.
 */
export class UpnpClient implements MethodDriver {
  readonly method = 'upnp'
  private located: Promise<Located> | undefined

  constructor(private readonly options: UpnpOptions) {}

  /** GetExternalIPAddress; any IPv4 address, reserved ones included. */
  async externalAddress(signal?: AbortSignal): Promise<string> {
    const out = await this.action('GetExternalIPAddress', [], signal)
    const address = out.get('NewExternalIPAddress') ?? ''
    if (!isIPv4(address)) throw PortmapError.malformed('upnp', `external address ${JSON.stringify(address)}`)
    return address
  }

  /** AddPortMapping; 725 retries with a permanent lease, 718 with another external port. */
  async map(req: ResolvedMapRequest, signal?: AbortSignal): Promise<Grant> {
    let externalPort = req.externalPort
    for (let attempt = 0; ; attempt++) {
      try {
        const lifetimeS = await this.addWithLeaseFallback({ ...req, externalPort }, signal)
        return { ...req, externalPort, lifetimeS, externalHost: await this.externalAddress(signal) }
      } catch (err) {
        if (!isFault(err, UPNP_ERROR.conflictInMappingEntry) || attempt >= CONFLICT_RETRIES) throw err
        externalPort = randomInt(1024, 65536)
      }
    }
  }

  /** DeletePortMapping; an entry already gone (714) counts as deleted. */
  async unmap(grant: Grant, signal?: AbortSignal): Promise<void> {
    const args = [
      ['NewRemoteHost', ''],
      ['NewExternalPort', grant.externalPort],
      ['NewProtocol', grant.protocol.toUpperCase()],
    ] as const
    await this.action('DeletePortMapping', args, signal).catch((err: unknown) => {
      if (!isFault(err, UPNP_ERROR.noSuchEntryInArray)) throw err
    })
  }

  private async addWithLeaseFallback(
    req: ResolvedMapRequest,
    signal: AbortSignal | undefined,
  ): Promise<number> {
    try {
      await this.addPortMapping(req, signal)
      return req.lifetimeS
    } catch (err) {
      if (!isFault(err, UPNP_ERROR.onlyPermanentLeasesSupported)) throw err
      await this.addPortMapping({ ...req, lifetimeS: 0 }, signal)
      return 0
    }
  }

  private async addPortMapping(req: ResolvedMapRequest, signal: AbortSignal | undefined): Promise<void> {
    const { localAddress } = await this.locate(signal)
    await this.action(
      'AddPortMapping',
      [
        ['NewRemoteHost', ''],
        ['NewExternalPort', req.externalPort],
        ['NewProtocol', req.protocol.toUpperCase()],
        ['NewInternalPort', req.internalPort],
        ['NewInternalClient', localAddress],
        ['NewEnabled', 1],
        ['NewPortMappingDescription', this.options.description ?? 'pairctl'],
        ['NewLeaseDuration', req.lifetimeS],
      ],
      signal,
    )
  }

  private async action(
    name: string,
    args: ReadonlyArray<readonly [string, string | number]>,
    signal: AbortSignal | undefined,
  ): Promise<Map<string, string>> {
    const service = await this.locate(signal)
    const request = encodeSoapRequest(service.serviceType, name, args)
    const reply = await httpRequest(service.controlUrl, { method: 'POST', ...request, signal })
    return decodeSoapResponse(name, reply.status, reply.body)
  }

  /** Finds the IGD once; a failed search is not cached, so the next call searches again. */
  private locate(signal: AbortSignal | undefined): Promise<Located> {
    this.located ??= this.search(signal).then((url) => describe(url, signal))
    this.located.catch(() => {
      this.located = undefined
    })
    return this.located
  }

  private async search(signal: AbortSignal | undefined): Promise<URL> {
    if (this.options.descriptionUrl) return this.options.descriptionUrl
    const target = this.options.ssdp ?? { host: SSDP_ADDRESS, port: SSDP_PORT }
    const reply = await udpExchange({
      method: 'upnp',
      ...target,
      connected: false,
      signal,
      build: () => SSDP_SEARCH_TARGETS.map((st) => encodeMSearch(st, target.host, target.port)),
      decode: (bytes, from) => acceptSsdp(decodeSsdpResponse(bytes), from, this.options.gateway),
    })
    if (!reply) throw PortmapError.timeout('upnp', 'SSDP M-SEARCH')
    return reply.location
  }
}

/**
 * An SSDP reply is usable when its LOCATION is on the host that sent it (so a reply cannot steer us
 * to another host) and, with an explicit gateway, when that host is the gateway.
 */
function acceptSsdp(
  reply: SsdpResponse | null,
  from: Peer,
  gateway: string | undefined,
): SsdpResponse | null {
  if (!reply || reply.location.hostname !== from.address) return null
  return gateway === undefined || gateway === from.address ? reply : null
}

async function describe(location: URL, signal: AbortSignal | undefined): Promise<Located> {
  const reply = await httpRequest(location, { method: 'GET', signal })
  if (reply.status !== 200) throw PortmapError.http(`description returned HTTP ${reply.status}`)
  const service = decodeDescription(reply.body, location)[0]
  if (!service) throw PortmapError.noService(location.href)
  return { ...service, localAddress: reply.localAddress }
}

function isFault(err: unknown, code: number): boolean {
  return err instanceof PortmapError && err.code === 'PORTMAP_SOAP_FAULT' && err.resultCode === code
}
