/**
 * The library entry (`spec/control.md` §1): {@link createNode} composes identity, DHT, addresses,
 * pairing and the paired-device store; {@link startDaemon} serves a node on its control socket.
 * @module
 */
export { type BootstrapNode, type BootstrapNodeOptions, startBootstrapNode } from './bootstrap.js'
export { type Daemon, startDaemon } from './daemon.js'
export { deviceInfo, findDevice } from './devices.js'
export type { NetworkStatus, PairingEngine } from './engine.js'
export type { LinkCounters } from './links.js'
export { createNode, type NodeEvent, type NodeEventMap, PairctlNode } from './node.js'
export { NodeError, type NodeOptions } from './options.js'
export { type PairingRequest, PairingRun } from './pairing-run.js'
