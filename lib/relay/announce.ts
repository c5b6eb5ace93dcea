import { z } from 'zod'
import { decodeCbor, encodeCbor } from '../cbor.js'
import { sha256, utf8 } from '../crypto/index.js'
import type { RelayAddress } from './client.js'
import { ANNOUNCE_KEY_LABEL, RELAY_VERSION } from './constants.js'

/**
 * Relay announcements in the DHT (`spec/relay.md` §7): every relay publishes, under one well-known key
 * of the `relay` namespace, a record naming where it listens; nodes read that key to find relays.
 * @module
 */

/** Addresses one announcement may list. */
export const MAX_ANNOUNCED_ADDRESSES = 4

/** The DHT key all relays announce under: SHA-256("pairctl/relay/v1/announce"). */
export const ANNOUNCE_KEY = sha256(utf8(ANNOUNCE_KEY_LABEL))

const AnnouncementSchema = z.object({
  v: z.literal(RELAY_VERSION),
  addrs: z
    .array(z.object({ host: z.string().min(1).max(253), port: z.number().int().min(1).max(65535) }))
    .min(1)
    .max(MAX_ANNOUNCED_ADDRESSES),
})

/** The value a relay publishes: CBOR `{v: 1, addrs: [{host, port}, …]}`, at most 4 addresses. */
export function encodeAnnouncement(addresses: readonly RelayAddress[]): Uint8Array {
  const addrs = addresses.slice(0, MAX_ANNOUNCED_ADDRESSES).map(({ host, port }) => ({ host, port }))
  return encodeCbor({ v: RELAY_VERSION, addrs })
}

/** The addresses of an announcement, or null when it is not one. */
export function decodeAnnouncement(bytes: Uint8Array): RelayAddress[] | null {
  try {
    return decodeCbor(AnnouncementSchema, bytes).addrs
  } catch {
    return null
  }
}
