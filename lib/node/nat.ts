import createDebug from 'debug'
import { isOwnAddress } from '../addresses/local.js'
import { classifyNat, type NatClassification } from '../stun/index.js'

const debug = createDebug('pairctl:node:nat')

/** Until the probe answers, and when it cannot (no bootstrap node, or its STUN server did not answer). */
export const NAT_UNKNOWN = 'unknown'

/** The node's NAT type for `status`, filled in by a background probe. */
export interface NatProbe {
  /** `unknown`, `none`, `nat (behaviour unknown)`, or `<mapping> mapping, <filtering> filtering`. */
  readonly natType: string
  /** Stops a probe still running (its socket and timers). */
  stop(): void
}

/**
 * Classifies the NAT in front of this host (RFC 5780 via `lib/stun`) against the STUN server of the first
 * bootstrap node, which answers STUN on its DHT port (`pairctl bootstrap`). A server without a second
 * address can only tell whether there is a NAT, not how it behaves; `status` says so rather than guess.
 */
export function probeNat(bootstrap: string[], host: string): NatProbe {
  const controller = new AbortController()
  const probe = { natType: NAT_UNKNOWN, stop: () => controller.abort() }
  const server = parseHostPort(bootstrap[0])
  if (server === null) return probe
  const localAddress = host === '0.0.0.0' || host === '::' ? undefined : host
  classifyNat(server, { signal: controller.signal, ...(localAddress === undefined ? {} : { localAddress }) })
    .then((result) => {
      probe.natType = describe(result)
    })
    .catch((err: Error) => debug('NAT classification against %s failed: %s', bootstrap[0], err.message))
  return probe
}

/** The address the server saw is one of ours: no NAT, even when the probe socket was bound to a wildcard. */
function describe(result: NatClassification): string {
  if (result.natPresent === false || isOwnAddress(result.mappedAddress.host)) return 'none'
  if (result.mapping === 'unknown') return 'nat (behaviour unknown)'
  return `${result.mapping} mapping, ${result.filtering} filtering`
}

/** `HOST:PORT` (IPv6 in brackets) as an endpoint, or null. */
export function parseHostPort(entry: string | undefined): { host: string; port: number } | null {
  const match = entry?.match(/^\[?([^\]]+?)\]?:(\d+)$/)
  return match ? { host: match[1]!, port: Number(match[2]) } : null
}
