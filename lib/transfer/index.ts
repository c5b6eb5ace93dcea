/**
 * Streams on the device link and file transfers over them (`spec/transfer.md`).
 * @module
 */
export { ChunkMap, type TransferInfo } from './book.js'
export * as transferConstants from './constants.js'
export { DeviceStreams } from './device-streams.js'
export { TRANSFER_ERROR_CODES, TransferError, type TransferErrorCode } from './errors.js'
export {
  chunkCount,
  decodeManifest,
  encodeManifest,
  type Manifest,
  manifestRoot,
  ROOT_LABEL,
  scanSources,
} from './manifest.js'
export { type DeliveredMessage, Messages } from './messages.js'
export { IncomingStream, LinkMux, type MuxHandlers, type OutgoingStream } from './mux.js'
export { encodeErrorBody, encodeFrame, isStreamFrame, MuxCore, type MuxEvent } from './mux-core.js'
export { checkPathSet, checkRelativePath, freeName } from './paths.js'
export { PARTIAL_DIR, type ReceivePolicy, type ReceiverCounters } from './receiver.js'
export type { SenderCounters } from './sender.js'
export { FINAL_STATES, TRANSFER_STATES, type TransferState } from './store.js'
export { Transfers, type TransfersOptions } from './transfers.js'
