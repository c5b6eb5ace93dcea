import type { PairingProgress } from '../control/protocol.js'
import type { AdvertAddress } from '../pairing/advert.js'
import type { PairingEvent } from '../pairing/types.js'

/**
 * A `lib/pairing` event as a control-API progress step (`spec/control.md` §5): times as ISO 8601,
 * addresses as `HOST:PORT`. `paired` and `failed` return null: the node reports those itself, after
 * it has stored the device or classified the error.
 */
export function toProgress(event: PairingEvent): PairingProgress | null {
  switch (event.type) {
    case 'code':
      return { type: 'code', code: event.code, expiresAt: new Date(event.expiresAt).toISOString() }
    case 'advertised':
    case 'found':
      return { type: event.type, addresses: event.addresses.map(formatAdvertAddress) }
    case 'paired':
    case 'failed':
      return null
    default:
      return event
  }
}

/** `HOST:PORT`, IPv6 in brackets. */
export function formatAdvertAddress(address: Pick<AdvertAddress, 'host' | 'port'>): string {
  return address.host.includes(':') ? `[${address.host}]:${address.port}` : `${address.host}:${address.port}`
}
