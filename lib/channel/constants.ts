/**
 * Wire constants and defaults of the framed channel (`spec/noise.md` §4-§6).
 * @module
 */
import { TAGLEN } from '../noise/constants.js'

/** Bytes of the big-endian length prefix before every frame. */
export const LENGTH_PREFIX = 2
/** The largest frame body: a Noise message (Noise §3). */
export const MAX_FRAME_LENGTH = 65535
/** The first plaintext byte of every transport message says what it is. */
export const FRAME_TYPE = { data: 0, keepalive: 1, close: 2 } as const
/** Bytes of the frame type inside the plaintext. */
export const TYPE_LENGTH = 1
/** The smallest valid transport frame: an encrypted type byte and a tag. */
export const MIN_TRANSPORT_FRAME = TYPE_LENGTH + TAGLEN
/** The largest message (message API) and the largest chunk per frame (stream API): 65518 bytes. */
export const MAX_MESSAGE_LENGTH = MAX_FRAME_LENGTH - TAGLEN - TYPE_LENGTH
/** The largest handshake frame accepted: bounds what an unauthenticated peer makes us buffer. */
export const MAX_HANDSHAKE_FRAME = 8192
/** Each direction rekeys (Noise §11.3) after this many transport messages: 4 GiB of full frames. */
export const REKEY_INTERVAL = 65536
/** Default time for the whole handshake. */
export const DEFAULT_HANDSHAKE_TIMEOUT_MS = 10_000
/** Default time without any frame from the peer before the channel fails; 0 disables. */
export const DEFAULT_IDLE_TIMEOUT_MS = 60_000
/** A keepalive is sent after this long without sending anything, so idle peers stay alive; 0 disables. */
export const DEFAULT_KEEPALIVE_MS = 15_000
