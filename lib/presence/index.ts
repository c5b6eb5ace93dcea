/**
 * Presence and reconnects between paired devices (`spec/presence.md`): signed presence records in the DHT,
 * the connection preamble, link messages, reconnect backoff and the duplicate-link rule.
 * @module
 */
export { Backoff } from './backoff.js'
export * as presenceConstants from './constants.js'
export { PresenceError } from './errors.js'
export { presenceKey } from './key.js'
export { lookupPresence, type PresenceLookup } from './lookup.js'
export { decodeLinkMessage, encodeLinkMessage, LINK_ERROR_CODES, type LinkMessage } from './messages.js'
export { type ConnectionPurpose, encodePreamble, parsePreamble } from './preamble.js'
export { PresencePublisher, type PresencePublisherOptions } from './publisher.js'
export { decodePresence, encodePresence, type PresenceRecord } from './record.js'
export { challengerWins } from './tie-break.js'
export type { PresenceDht, PresenceDhtRecord, PresencePublication } from './types.js'
