import { PairctlError } from '../errors.js'
import type { MappingMethod } from './types.js'

/**
 * The one error class of `lib/portmap` (spec/portmap.md §7). Callers switch on `code`.
 * `resultCode` carries the protocol's own number: a NAT-PMP / PCP result code, a UPnPError code or an
 * HTTP status.
 */
export class PortmapError extends PairctlError {
  readonly method: MappingMethod | undefined
  readonly resultCode: number | undefined

  constructor(
    code: string,
    message: string,
    options: { cause?: unknown; remote?: boolean; method?: MappingMethod; resultCode?: number } = {},
  ) {
    super(code, message, options)
    this.method = options.method
    this.resultCode = options.resultCode
  }

  /** No default route and no `gateway` option. */
  static noGateway(detail: string): PortmapError {
    return new PortmapError('PORTMAP_NO_GATEWAY', `no gateway: ${detail}`)
  }

  /** The gateway did not answer in time. */
  static timeout(method: MappingMethod, what: string): PortmapError {
    return new PortmapError('PORTMAP_TIMEOUT', `${method}: no answer to ${what}`, { method, remote: true })
  }

  /** The gateway answered ICMP port unreachable: no NAT-PMP / PCP server runs there. */
  static unreachable(method: MappingMethod, where: string): PortmapError {
    return new PortmapError('PORTMAP_UNREACHABLE', `${method}: ${where} is unreachable (port closed)`, {
      method,
      remote: true,
    })
  }

  /** NAT-PMP or PCP answered with a non-zero result code. */
  static refused(method: MappingMethod, resultCode: number, name: string): PortmapError {
    return new PortmapError('PORTMAP_REFUSED', `${method}: gateway refused with ${resultCode} (${name})`, {
      method,
      resultCode,
      remote: true,
    })
  }

  /** The IGD answered a SOAP action with a UPnPError fault. */
  static soapFault(action: string, resultCode: number, description: string): PortmapError {
    return new PortmapError(
      'PORTMAP_SOAP_FAULT',
      `upnp: ${action} failed with ${resultCode} ${description}`,
      {
        method: 'upnp',
        resultCode,
        remote: true,
      },
    )
  }

  /** A response could not be parsed or does not follow the protocol. */
  static malformed(method: MappingMethod, detail: string): PortmapError {
    return new PortmapError('PORTMAP_MALFORMED', `${method}: malformed response: ${detail}`, {
      method,
      remote: true,
    })
  }

  /** HTTP failure talking to an IGD (status other than 200 without a SOAP fault, socket error). */
  static http(detail: string, options: { status?: number; cause?: unknown } = {}): PortmapError {
    return new PortmapError('PORTMAP_HTTP', `upnp: ${detail}`, {
      method: 'upnp',
      remote: true,
      cause: options.cause,
      resultCode: options.status,
    })
  }

  /** The IGD has no WANIPConnection / WANPPPConnection service. */
  static noService(location: string): PortmapError {
    return new PortmapError('PORTMAP_NO_SERVICE', `upnp: no WAN connection service in ${location}`, {
      method: 'upnp',
      remote: true,
    })
  }

  /** Every enabled method failed; `cause` is the list of errors, one per method. */
  static unavailable(errors: PortmapError[]): PortmapError {
    const detail = errors.map((e) => e.message).join('; ')
    return new PortmapError('PORTMAP_UNAVAILABLE', `no port-mapping method worked: ${detail}`, {
      cause: errors,
    })
  }

  /** Caller passed an invalid argument. */
  static invalidArgument(detail: string): PortmapError {
    return new PortmapError('PORTMAP_INVALID_ARGUMENT', detail)
  }

  /** The mapper was closed, or the caller's signal aborted. */
  static aborted(detail: string): PortmapError {
    return new PortmapError('PORTMAP_ABORTED', detail)
  }
}
