import { SSDP_ADDRESS, SSDP_PORT } from './constants.js'

/**
 * SSDP search codec (UPnP Device Architecture 1.1 §1.3.2, §1.3.3). Pure functions; the adapter
 * (`transport.ts`) sends the M-SEARCH and feeds replies to {@link decodeSsdpResponse}.
 */

/** A search reply that points at a device description. */
export interface SsdpResponse {
  location: URL
  st: string
  usn: string
}

/** An M-SEARCH request for search target `st`, to be sent to `host:port` (multicast by default). */
export function encodeMSearch(st: string, host = SSDP_ADDRESS, port = SSDP_PORT): Uint8Array {
  const lines = [
    'M-SEARCH * HTTP/1.1',
    `HOST: ${host.includes(':') ? `[${host}]` : host}:${port}`,
    'MAN: "ssdp:discover"',
    'MX: 1',
    `ST: ${st}`,
  ]
  return new TextEncoder().encode(`${lines.join('\r\n')}\r\n\r\n`)
}

/**
 * Decodes a search reply (`HTTP/1.1 200 OK` + headers). `null` for anything else: a NOTIFY, another
 * status, a missing or non-http LOCATION, binary garbage.
 */
export function decodeSsdpResponse(bytes: Uint8Array): SsdpResponse | null {
  const text = new TextDecoder('utf-8', { fatal: false }).decode(bytes)
  const [status, ...lines] = text.split(/\r?\n/)
  if (!status || !/^HTTP\/1\.[01] 200\b/i.test(status)) return null
  const headers = parseHeaders(lines)
  const location = parseHttpUrl(headers.get('location'))
  const st = headers.get('st')
  if (!location || !st) return null
  return { location, st, usn: headers.get('usn') ?? '' }
}

function parseHeaders(lines: string[]): Map<string, string> {
  const headers = new Map<string, string>()
  for (const line of lines) {
    const colon = line.indexOf(':')
    if (colon > 0) headers.set(line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim())
  }
  return headers
}

function parseHttpUrl(text: string | undefined): URL | null {
  if (!text || !URL.canParse(text)) return null
  const url = new URL(text)
  return url.protocol === 'http:' ? url : null
}
