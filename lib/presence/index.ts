/**
 * Presence and reconnects between paired devices (`spec/presence.md`): per-pair, per-epoch sealed presence
 * records in the DHT, the connection preamble, link messages, reconnect backoff and the duplicate-link rule.
 * @module
 */
export { Backoff } from './backoff.js'
export * as presenceConstants from './constants.js'
export { PresenceError } from './errors.js'
export { type EpochKeys, epochKeys, epochOf, lookupEpochs } from './keys.js'
export {
  lookupPresence,
  type PresenceLookup,
  type PresenceLookupOptions,
  type PresencePeer,
} from './lookup.js'
export { decodeLinkMessage, encodeLinkMessage, LINK_ERROR_CODES, type LinkMessage } from './messages.js'
export { type ConnectionPurpose, encodePreamble, parsePreamble } from './preamble.js'
export { PresencePublisher, type PresencePublisherOptions } from './publisher.js'
export {
  openPresence,
  type PresenceRecord,
  type RecordContext,
  recordSignedBytes,
  SEALED_PRESENCE_BYTES,
  sealPresence,
} from './record.js'
export { challengerWins } from './tie-break.js'
export type { PresenceDht, PresenceDhtRecord, PresencePublication } from './types.js'
