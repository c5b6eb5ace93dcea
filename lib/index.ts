/**
 * pairctl as a library. Most applications need only {@link createNode}: it owns the identity, the DHT
 * node, the TCP listener, the addresses and the paired-device store; it pairs with `generate()` /
 * `join(code)`, keeps an authenticated link to every reachable paired device (`peers()`) and sends text
 * over it (`send()`). The protocol modules are exported for implementers and tests.
 * @module
 */
export { DecodeError } from './cbor.js'
export type { DeviceInfo, MessageInfo, PeerStatus, Status } from './control/protocol.js'
export { hasCode, PairctlError } from './errors.js'
export {
  deviceIdFromPublicKey,
  Identity,
  instanceDir,
  loadOrCreateIdentity,
  pairctlHome,
  parseDeviceId,
} from './identity/index.js'
export {
  type BootstrapNode,
  type BootstrapNodeOptions,
  createNode,
  NodeError,
  type NodeEvent,
  type NodeOptions,
  PairctlNode,
  type PairingRequest,
  PairingRun,
  startBootstrapNode,
  startDaemon,
} from './node/index.js'
export * as presence from './presence/index.js'
export * as relay from './relay/index.js'
