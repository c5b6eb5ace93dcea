/**
 * TCP hole punching (`spec/holepunch.md`): the sans-I/O core, punch records and the DHT/socket adapter.
 * @module
 */
export * from './constants.js'
export {
  connectWindow,
  type LocalMapping,
  PunchRequester,
  PunchResponder,
  type PunchRole,
  type RequesterAction,
  type ResponderAction,
} from './core.js'
export { HolepunchError, type HolepunchErrorCode, NO_PATH_MESSAGE } from './errors.js'
export {
  advertiserKeys,
  type Endpoint,
  joinerKeys,
  type NatBehaviour,
  openMessage,
  type PunchKeys,
  type PunchMessage,
  pairingPunchKey,
  presenceKeys,
  presencePunchKey,
  recordSalt,
  sealMessage,
} from './messages.js'
export { learnMapping, simultaneousOpen } from './net.js'
export {
  type PunchContext,
  type PunchDht,
  type PunchDhtRecord,
  type Punched,
  RequesterPunch,
  type ResponderHandlers,
  respondToPunches,
} from './punch.js'
