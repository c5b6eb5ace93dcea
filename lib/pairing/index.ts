/**
 * Pairing with short word codes (`spec/pairing.md`): BIP39 codes whose public rendezvous words locate
 * a signed advertisement in the DHT, CPace inside a Noise XX channel for the secret words, explicit key
 * confirmation, an optional SAS, and the paired-device store.
 * @module
 */
export { type Advert, type AdvertAddress, decodeAdvert, encodeAdvert } from './advert.js'
export { type GeneratePairingOptions, generatePairing } from './advertiser.js'
export { openPairingChannel } from './channel.js'
export {
  codePassword,
  generateCode,
  type PairingCode,
  parseCode,
  type RandomSource,
  rendezvousKey,
  secretBits,
  suggestWord,
} from './code.js'
export { type Connector, tcpConnect } from './connect.js'
export * as pairingConstants from './constants.js'
export { type IncomingHandler, type IncomingPairing, PairingDispatcher } from './dispatcher.js'
export { PAIRING_ERROR_CODES, PairingError, type PairingErrorCode } from './errors.js'
export {
  type DeviceInfo,
  type HandshakeEvent,
  type HandshakeState,
  PairingHandshake,
  type PeerInfo,
} from './handshake.js'
export { type JoinPairingOptions, joinPairing } from './joiner.js'
export { decodeMessage, encodeMessage, type PairingMessage } from './messages.js'
export { type Evictable, PendingConnections, sourceOf } from './pending.js'
export { AdvertiserSession, type AdvertiserState } from './session.js'
export { type PairedDevice, PairedDeviceStore, STORE_FILE } from './store.js'
export type {
  ChannelOpener,
  CommonPairingOptions,
  PairingChannel,
  PairingDht,
  PairingDhtRecord,
  PairingEvent,
  PairingIdentity,
  PairingSession,
} from './types.js'
export { UsedCodeStore, type UsedCodes, usedCodeHash } from './used-codes.js'
