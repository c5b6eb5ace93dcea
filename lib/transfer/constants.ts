/**
 * Wire constants of streams on the link and of file transfers (`spec/transfer.md` §2, §5).
 * @module
 */
import { MAX_MESSAGE_LENGTH } from '../channel/index.js'

/** The first byte of a stream frame; CBOR link messages (maps) start with 0xa0-0xbf, so never collide. */
export const FRAME = {
  request: 0x01,
  response: 0x02,
  error: 0x03,
  open: 0x04,
  data: 0x05,
  credit: 0x06,
  end: 0x07,
  reset: 0x08,
  stop: 0x09,
} as const
/** Kind byte + 32-bit big-endian request or stream id. */
export const FRAME_HEADER_LENGTH = 5
/** The most payload one DATA frame carries: one channel message less the frame header. */
export const MAX_DATA_LENGTH = MAX_MESSAGE_LENGTH - FRAME_HEADER_LENGTH
/** Bytes a stream's reader allows in flight before it has consumed any (and the window it keeps). */
export const STREAM_WINDOW = 4 * 1024 * 1024
/** Streams a peer may have open towards us at once. */
export const MAX_INCOMING_STREAMS = 64
/** Requests of a peer being handled at once; more are answered STREAM_PROTOCOL. */
export const MAX_INCOMING_REQUESTS = 256
/** A request's default time to its response. */
export const DEFAULT_REQUEST_TIMEOUT_MS = 30_000
/** The largest `{code, message}` error body accepted. */
export const MAX_ERROR_MESSAGE = 1024

/** Bytes per chunk: the unit that is hashed, verified and resumed (`spec/transfer.md` §4). */
export const CHUNK_SIZE = 1024 * 1024
/** Files per offer. */
export const MAX_FILES = 100_000
/** Bytes of one relative path (UTF-8). */
export const MAX_PATH_BYTES = 4096
/** Bytes of one path component (UTF-8), as most file systems allow. */
export const MAX_NAME_BYTES = 255
/** The largest manifest accepted (a million chunks of hashes, and the paths). */
export const MAX_MANIFEST_BYTES = 64 * 1024 * 1024
/** A chunk that fails its hash this many times fails the transfer (the source changed). */
export const MAX_CHUNK_FAILURES = 3
/** How long a message waits for the device's next link after the one it was sent on closed unacknowledged. */
export const MESSAGE_RETRY_WINDOW_MS = 20_000
/** Message ids a receiver remembers, so a retried message is shown once. */
export const SEEN_MESSAGE_IDS = 4096
/** Receive state is persisted at least this often while chunks arrive. */
export const PERSIST_INTERVAL_MS = 1000
/**
 * Finished transfers an instance keeps listing (`spec/transfer.md` §6.4): beyond this many whose end the
 * peer knows, the oldest are forgotten, so a long-running daemon's history stays bounded.
 */
export const MAX_FINISHED_TRANSFERS = 200
