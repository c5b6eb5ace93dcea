import { readFile } from 'node:fs/promises'
import { PortmapError } from './errors.js'

/**
 * Default gateway discovery on Linux from `/proc/net/route` (spec/portmap.md §2). Addresses there are
 * 32-bit hex in host byte order (little-endian on every Linux we run on).
 */

const RTF_UP = 0x1
const RTF_GATEWAY = 0x2

/** The IPv4 default gateway in a `/proc/net/route` text, or `null`. */
export function parseDefaultGateway(text: string): string | null {
  for (const line of text.split('\n').slice(1)) {
    const [, destination, gateway, flags] = line.trim().split(/\s+/)
    if (destination !== '00000000' || !gateway || !/^[0-9a-fA-F]{8}$/.test(gateway)) continue
    if ((Number.parseInt(flags ?? '0', 16) & (RTF_UP | RTF_GATEWAY)) !== (RTF_UP | RTF_GATEWAY)) continue
    return littleEndianHexToIpv4(gateway)
  }
  return null
}

/** Reads the default gateway; PORTMAP_NO_GATEWAY when there is none or the file is unreadable. */
export async function defaultGateway(path = '/proc/net/route'): Promise<string> {
  const text = await readFile(path, 'utf8').catch((err: unknown) => {
    throw new PortmapError('PORTMAP_NO_GATEWAY', `cannot read ${path}`, { cause: err })
  })
  const gateway = parseDefaultGateway(text)
  if (!gateway) throw PortmapError.noGateway(`no default route in ${path}`)
  return gateway
}

function littleEndianHexToIpv4(hex: string): string {
  const value = Number.parseInt(hex, 16)
  return [0, 8, 16, 24].map((shift) => (value >>> shift) & 0xff).join('.')
}
