import type { AddressInfo } from '../control/protocol.js'
import type { PairedDevice } from '../pairing/store.js'
import type { DeviceLinks } from './links.js'
import type { PairingRequest, PairingRun } from './pairing-run.js'

/** What the network side of a node reports in `status` (`spec/control.md` §4.1). */
export interface NetworkStatus {
  listen: AddressInfo[]
  external: AddressInfo[]
  natType: string
  routingTableSize: number
  /** LAN discovery (`spec/discovery.md`): its interface addresses and the nodes found; null when off. */
  lan: { interfaces: string[]; peers: number } | null
}

/** The network side of a node: DHT, listener, addresses, pairing and the links to paired devices. */
export interface PairingEngine {
  /** Presence and reconnects (`spec/presence.md` §6). */
  readonly links: DeviceLinks
  generate(run: PairingRun, request: PairingRequest): Promise<PairedDevice>
  join(run: PairingRun, code: string, request: PairingRequest): Promise<PairedDevice>
  status(): NetworkStatus
}
