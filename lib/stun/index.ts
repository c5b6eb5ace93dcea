/**
 * STUN (RFC 8489) and NAT behaviour discovery (RFC 5780) for pairctl. Spec: `spec/stun.md`.
 * @module
 */
export { decodeAddress, type Endpoint, encodeAddress, type FamilyEndpoint } from './address.js'
export {
  type ChangeRequest,
  decodeChangeRequest,
  decodeErrorCode,
  decodeText,
  decodeUnknownAttributes,
  encodeChangeRequest,
  encodeErrorCode,
  encodeText,
  encodeUnknownAttributes,
} from './attributes.js'
export {
  type BindingRequestOptions,
  type BindingResult,
  createBindingRequest,
  readBindingResponse,
} from './binding.js'
export {
  type ClassifyNatOptions,
  classifyNat,
  type StunBindingOptions,
  type StunBindingResult,
  stunBinding,
} from './client-io.js'
export * from './constants.js'
export { StunError } from './errors.js'
export { StreamFramer } from './framer.js'
export {
  addFingerprint,
  addMessageIntegrity,
  addMessageIntegritySha256,
  type LongTermCredentials,
  longTermKey,
  opaqueString,
  type PasswordAlgorithm,
  shortTermKey,
  userhash,
  verifyFingerprint,
  verifyMessage,
  verifyMessageIntegrity,
  verifyMessageIntegritySha256,
} from './integrity.js'
export {
  type DecodedAttribute,
  type DecodedMessage,
  decodeMessage,
  decodeMessageType,
  encodeMessage,
  encodeMessageType,
  findAttribute,
  isStunMessage,
  type StunAttribute,
  type StunMessage,
  significantAttributes,
  tryDecodeMessage,
} from './message.js'
export {
  type BindingProbe,
  classifyNatWith,
  type FilteringBehaviour,
  type MappingBehaviour,
  type NatClassification,
} from './nat.js'
export { type StunReply, StunServer, type StunServerCounters, type StunServerOptions } from './server.js'
export { type RunningStunServer, type StartStunServerOptions, startStunServer } from './server-io.js'
export {
  ClientTransaction,
  errorFromResponse,
  type StunTransport,
  sameEndpoint,
  type TransactionCounters,
  type TransactionEvent,
  type TransactionOptions,
  unknownComprehensionRequired,
} from './transaction.js'
