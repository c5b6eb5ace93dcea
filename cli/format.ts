import type {
  AddressInfo,
  DeviceInfo,
  MessageInfo,
  PairingProgress,
  PeerStatus,
  Status,
} from '../lib/control/protocol.js'

/** `pairctl status` for people (`spec/control.md` §8). `online` null reads as "unknown", never "offline". */
export function formatStatus(status: Status, running: boolean): string {
  const lines = [
    `Device ID   ${status.deviceId}`,
    `Name        ${status.name}`,
    `Daemon      ${running ? `running (pid ${status.pid}, version ${status.version})` : 'not running (pairctl start)'}`,
  ]
  if (running) {
    lines.push(
      `Listening   ${formatAddresses(status.listen)}`,
      `Advertised  ${formatAddresses(status.external)}`,
      `NAT type    ${status.natType}`,
      `DHT         ${plural(status.dht.routingTableSize, 'node')} in the routing table${bootstrapNote(status)}`,
    )
  }
  lines.push(`Paired      ${status.paired.length === 0 ? 'no devices' : `${status.paired.length} device(s)`}`)
  for (const peer of status.paired) lines.push(`  ${formatPeer(peer)}`)
  return lines.join('\n')
}

function formatAddresses(addresses: AddressInfo[]): string {
  if (addresses.length === 0) return 'none known'
  return addresses.map((a) => `${a.protocol} ${hostPort(a.host, a.port)} (${a.source})`).join(', ')
}

function bootstrapNote(status: Status): string {
  return status.dht.bootstrap.length === 0 ? '' : `; bootstrap ${status.dht.bootstrap.join(', ')}`
}

/** A paired device with its online state: null reads "unknown" (no daemon tracks it), never "offline". */
export function formatPeer(peer: PeerStatus): string {
  return `${formatDevice(peer)}  online: ${onlineWord(peer)}`
}

function onlineWord(peer: PeerStatus): string {
  if (peer.online === null) return 'unknown (start the daemon to track it: pairctl start)'
  if (peer.online) return 'yes'
  return peer.lastSeen === null ? 'no (not seen since the daemon started)' : `no (last seen ${peer.lastSeen})`
}

/** A received message on one line. */
export function formatMessage(message: MessageInfo): string {
  return `[${message.receivedAt}] "${message.name}" ${message.deviceId}: ${message.text}`
}

/** `HOST:PORT`, bracketing IPv6. */
export function hostPort(host: string, port: number): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`
}

/** One device on one line. */
export function formatDevice(device: DeviceInfo): string {
  return `"${device.name}" ${device.deviceId} (${device.type}, paired ${device.pairedAt})`
}

/** One pairing step in plain words, or null for steps not shown to people. */
export function formatProgress(progress: PairingProgress): string | null {
  switch (progress.type) {
    case 'code':
      return formatCode(progress.code, progress.expiresAt)
    case 'advertised':
      return `advertised; waiting for the other device (reachable at ${progress.addresses.join(', ') || 'no address'})`
    case 'searching':
      return 'looking up the code…'
    case 'found':
      return `found the other device at ${progress.addresses.join(', ')}`
    case 'peer-connected':
      return `peer connected (${progress.address}${progress.path === undefined ? '' : `, ${progress.path}`})`
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

function formatCode(code: string, expiresAt: string): string {
  const line = '─'.repeat(code.length + 4)
  const expires = new Date(expiresAt).toLocaleTimeString()
  return `\nPairing code (valid until ${expires}):\n\n  ┌${line}┐\n  │  ${code}  │\n  └${line}┘\n\nOn the other device run:  pairctl join ${code}\n`
}

function plural(count: number, noun: string): string {
  return `${count} ${noun}${count === 1 ? '' : 's'}`
}
