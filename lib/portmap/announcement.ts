import dgram from 'node:dgram'
import { ALL_HOSTS_GROUP, ANNOUNCEMENT_PORT, PCP_OP, PCP_VERSION } from './constants.js'
import { decodeNatPmpResponse } from './natpmp.js'
import { decodePcpResponse } from './pcp.js'

/** A gateway's unsolicited announcement: it (re)started or its external address changed. */
export interface Announcement {
  method: 'natpmp' | 'pcp'
  /** The gateway's epoch (seconds since its mapping state began, RFC 6887 §8.5). */
  epoch: number
}

/**
 * Reads an announcement (spec/portmap.md §6): a PCP ANNOUNCE response (RFC 6887 §14.1.3) or a NAT-PMP
 * external-address response (RFC 6886 §3.2.1), either with result 0. Anything else is null.
 */
export function decodeAnnouncement(bytes: Uint8Array): Announcement | null {
  const pcp = decodePcpResponse(bytes)
  if (pcp !== null && pcp.version === PCP_VERSION && pcp.opcode === PCP_OP.announce && pcp.resultCode === 0)
    return { method: 'pcp', epoch: pcp.epoch }
  const natPmp = decodeNatPmpResponse(bytes)
  if (natPmp?.op === 'externalAddress' && natPmp.resultCode === 0)
    return { method: 'natpmp', epoch: natPmp.epoch }
  return null
}

/** Options of {@link listenForAnnouncements}. */
export interface AnnouncementOptions {
  /** Only datagrams from this address and port count: the gateway's NAT-PMP/PCP server. */
  gateway: { host: string; port: number }
  /** Where announcements arrive, 5350 (RFC 6886 §3.2.1); tests pass another. */
  port?: number
  onAnnouncement: (announcement: Announcement) => void
}

/**
 * Listens on the all-hosts group 224.0.0.1, port 5350, for the gateway's announcements. Resolves with
 * a close function, or null when the port cannot be bound (another listener holding it without
 * `SO_REUSEADDR`): the minute-by-minute renewal check still notices a restarted router then.
 */
export async function listenForAnnouncements(options: AnnouncementOptions): Promise<(() => void) | null> {
  const socket = dgram.createSocket({ type: 'udp4', reuseAddr: true })
  const bound = await new Promise<boolean>((resolve) => {
    socket.once('error', () => resolve(false))
    socket.bind(options.port ?? ANNOUNCEMENT_PORT, () => resolve(true))
  })
  if (!bound) {
    socket.close()
    return null
  }
  socket.on('error', () => {})
  try {
    socket.addMembership(ALL_HOSTS_GROUP)
  } catch {
    // The kernel delivers 224.0.0.1 to every host anyway; joining only makes that explicit.
  }
  socket.on('message', (data, from) => {
    if (from.address !== options.gateway.host || from.port !== options.gateway.port) return
    const announcement = decodeAnnouncement(new Uint8Array(data.buffer, data.byteOffset, data.byteLength))
    if (announcement !== null) options.onAnnouncement(announcement)
  })
  return () => socket.close()
}
