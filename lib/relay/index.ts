/**
 * The WebSocket relay (`spec/relay.md`): a sans-I/O core that splices two connections presenting the
 * same token, its `ws` server adapter, and the client side (dial, reserve, circuits as byte streams).
 * @module
 */
export { ANNOUNCE_KEY, decodeAnnouncement, encodeAnnouncement } from './announce.js'
export {
  dialRelay,
  formatRelay,
  type IncomingCircuit,
  parseRelayAddress,
  type RelayAddress,
  Reservation,
  type ReservationEventMap,
  relayUrl,
} from './client.js'
export * as relayConstants from './constants.js'
export { CLOSE, DEFAULT_LIMITS, RELAY_NAMESPACE, type RelayLimits } from './constants.js'
export { type RelayAction, RelayCore, type RelayCounters, type RelayEvent } from './core.js'
export { RelayError } from './errors.js'
export {
  type ClientMessage,
  decodeClientMessage,
  decodeRelayMessage,
  encodeClientMessage,
  encodeRelayMessage,
  type RelayMessage,
} from './messages.js'
export { RelayServer, type RelayServerOptions } from './server.js'
export { RelayStream } from './stream.js'
export { decodeToken, encodeToken, pairingToken, reconnectToken } from './token.js'
