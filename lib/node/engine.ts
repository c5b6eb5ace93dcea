import type { AddressInfo } from '../control/protocol.js'
import type { PairedDevice } from '../pairing/store.js'
import { NodeError } from './options.js'
import type { PairingRequest, PairingRun } from './pairing-run.js'

/** What the network side of a node reports in `status` (`spec/control.md` §4.1). */
export interface NetworkStatus {
  listen: AddressInfo[]
  external: AddressInfo[]
  natType: string
  routingTableSize: number
}

/** The network side of a node: DHT, listener, addresses and the pairing protocol driven over them. */
export interface PairingEngine {
  generate(run: PairingRun, request: PairingRequest): Promise<PairedDevice>
  join(run: PairingRun, code: string, request: PairingRequest): Promise<PairedDevice>
  status(): NetworkStatus
}

/** The engine of a node whose network parts are not available in this build. */
export const OFFLINE_ENGINE: PairingEngine = {
  generate: () => Promise.reject(offline()),
  join: () => Promise.reject(offline()),
  status: () => ({ listen: [], external: [], natType: 'unknown', routingTableSize: 0 }),
}

function offline(): NodeError {
  return new NodeError(
    'NODE_OFFLINE',
    'pairing needs the network stack, which this build does not include yet',
  )
}
