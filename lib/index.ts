/**
 * pairctl as a library. Most applications need only {@link createNode}: it owns the identity, the DHT
 * node, the TCP listener, the addresses and the paired-device store, and pairs with `generate()` /
 * `join(code)`. The protocol modules are exported for implementers and tests.
 * @module
 */
export { DecodeError } from './cbor.js'
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
  createNode,
  NodeError,
  type NodeEvent,
  type NodeOptions,
  PairctlNode,
  type PairingRequest,
  PairingRun,
  startDaemon,
} from './node/index.js'
