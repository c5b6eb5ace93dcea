import type {
  AddressInfo,
  DeviceInfo,
  MessageInfo,
  PairingProgress,
  PeerStatus,
  Status,
} from '../lib/control/protocol.js'
import { printable } from './text.js'

/** `pairctl status` for people (`spec/control.md` §8). `online` null reads as "unknown", never "offline". */
export function formatStatus(status: Status, running: boolean): string {
  const start =
    status.instance === 'default' ? 'pairctl start' : `pairctl start --instance ${status.instance}`
  const lines = [`Device ID   ${status.deviceId}`]
  if (running) lines.push(`Name        ${printable(status.name)}`)
  lines.push(
    `Daemon      ${running ? `running (pid ${status.pid}, version ${status.version})` : `not running (${start})`}`,
  )
  if (running) {
    lines.push(
      `Listening   ${formatAddresses(status.listen)}`,
      `Advertised  ${formatAddresses(status.external)}`,
      `NAT type    ${status.natType}`,
      `DHT         ${plural(status.dht.routingTableSize, 'node')} in the routing table${bootstrapNote(status)}`,
      `LAN         ${lanNote(status)}`,
    )
    if (status.downloads !== undefined) lines.push(`Downloads   ${status.downloads}`)
  }
  lines.push(`Paired      ${status.paired.length === 0 ? 'no devices' : `${status.paired.length} device(s)`}`)
  for (const peer of status.paired) lines.push(`  ${formatPeer(peer)}`)
  return lines.join('\n')
}

function formatAddresses(addresses: AddressInfo[]): string {
  if (addresses.length === 0) return 'none known'
  return addresses.map((a) => `${a.protocol} ${hostPort(a.host, a.port)} (${a.source})`).join(', ')
}

function lanNote(status: Status): string {
  const lan = status.dht.lan
  if (lan === null || lan === undefined) return 'discovery off'
  return `discovery on ${lan.interfaces.join(', ')}: ${plural(lan.peers, 'pairctl device')} found`
}

function bootstrapNote(status: Status): string {
  return status.dht.bootstrap.length === 0 ? '' : `; bootstrap ${status.dht.bootstrap.join(', ')}`
}

/** How `status` says a link got there (`spec/holepunch.md` §6). */
const PATH_WORDS: Record<NonNullable<PeerStatus['path']>, string> = {
  direct: 'direct',
  mapped: 'through a router mapping',
  holepunch: 'hole-punched',
  relay: 'through a relay',
}

/** A paired device with its online state: null reads "unknown" (no daemon tracks it), never "offline". */
export function formatPeer(peer: PeerStatus): string {
  return `${formatDevice(peer)}  online: ${onlineWord(peer)}`
}

function onlineWord(peer: PeerStatus): string {
  if (peer.online === null) return 'unknown (start the daemon to track it: pairctl start)'
  if (peer.online) return peer.path === undefined ? 'yes' : `yes (${PATH_WORDS[peer.path]})`
  return peer.lastSeen === null
    ? 'no (not seen since the daemon started)'
    : `no (last seen ${localTime(peer.lastSeen)})`
}

/** A received message on one line. */
export function formatMessage(message: MessageInfo): string {
  return `[${localTime(message.receivedAt)}] "${printable(message.name)}" ${message.deviceId}: ${printable(message.text)}`
}

/** `HOST:PORT`, bracketing IPv6. */
export function hostPort(host: string, port: number): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`
}

/** One device on one line. */
export function formatDevice(device: DeviceInfo): string {
  return `"${printable(device.name)}" ${device.deviceId} (${printable(device.type)}, paired ${localTime(device.pairedAt)})`
}

/** One pairing step in plain words, or null for steps not shown to people. */
export function formatProgress(progress: PairingProgress, joinFlags = ''): string | null {
  switch (progress.type) {
    case 'code':
      return formatCode(progress.code, progress.expiresAt, joinFlags)
    case 'advertised':
      return `advertised; waiting for the other device (reachable at ${printable(progress.addresses.join(', ')) || 'no address'})`
    case 'searching':
      return 'looking up the code…'
    case 'found':
      return `found the other device at ${printable(progress.addresses.join(', '))}`
    case 'peer-connected':
      return `peer connected (${printable(progress.address)}${progress.path === undefined ? '' : `, ${progress.path}`}${progress.relayed === true ? ', through a relay' : ''})`
    case 'verifying':
      return 'verifying the code…'
    case 'sas':
      return `security code: ${progress.sas}`
    case 'attempt-failed':
      return `someone tried a wrong code; ${progress.remaining} attempt(s) left`
    case 'paired':
      return `paired with ${formatDevice(progress.device)}`
    case 'failed':
      return null
  }
}

/** The code, boxed, and the whole command the other device types (with the flags it needs). */
function formatCode(code: string, expiresAt: string, joinFlags: string): string {
  const line = '─'.repeat(code.length + 4)
  return `\nPairing code (valid until ${localTime(expiresAt)}):\n\n  ┌${line}┐\n  │  ${code}  │\n  └${line}┘\n\nOn the other device run:  pairctl join ${joinFlags}${code}\n`
}

/**
 * The one terminal time format (`spec/cli.md` §3): local time, 24 hours, `YYYY-MM-DD HH:MM:SS`; JSON
 * keeps ISO 8601 UTC. Text that is not a time is shown escaped, as it came.
 */
export function localTime(iso: string): string {
  const time = new Date(iso)
  if (Number.isNaN(time.getTime())) return printable(iso)
  const two = (n: number) => String(n).padStart(2, '0')
  const date = `${time.getFullYear()}-${two(time.getMonth() + 1)}-${two(time.getDate())}`
  return `${date} ${two(time.getHours())}:${two(time.getMinutes())}:${two(time.getSeconds())}`
}

function plural(count: number, noun: string): string {
  return `${count} ${noun}${count === 1 ? '' : 's'}`
}
