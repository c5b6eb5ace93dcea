/**
 * The pairctl secure channel (`spec/noise.md`): Noise XX / IK handshakes bound to device identities, then
 * length-prefixed Noise transport frames over any Duplex.
 * @module
 */
export { MAX_MESSAGE_LENGTH } from './constants.js'
export {
  ChannelCore,
  type ChannelCoreOptions,
  type ChannelEvent,
  type ChannelInfo,
  type MessageBytes,
} from './core.js'
export { ChannelError } from './errors.js'
export { type OpenChannelOptions, openChannel, SecureChannel } from './secure-channel.js'
