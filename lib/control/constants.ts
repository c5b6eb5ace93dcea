/**
 * Constants of the control API (`spec/control.md` §2-3).
 * @module
 */

/** Protocol version; also the URL path `/v1` a client asks for. Bumped on any incompatible change. */
export const CONTROL_PROTOCOL_VERSION = 1
/** The URL path of the current version. */
export const CONTROL_PATH = `/v${CONTROL_PROTOCOL_VERSION}`
/** File name of the control socket inside the instance directory. */
export const CONTROL_SOCKET_FILE = 'control.sock'
/** Mode of the control socket: owner only (a socket's connect permission is its write bit). */
export const CONTROL_SOCKET_MODE = 0o600
/** Largest accepted message; control messages are small, anything bigger is abuse. */
export const CONTROL_MAX_MESSAGE_BYTES = 64 * 1024
/**
 * Bytes of replies and events queued towards one client above which it is disconnected: a client that
 * stopped reading (or reads slower than events arrive) must not grow the daemon's memory.
 */
export const CONTROL_MAX_QUEUED_BYTES = 1024 * 1024
/**
 * The daemon pings every client this often and disconnects one that has not answered the previous
 * ping: a client stuck in the middle of a frame, or not reading at all, is gone within two periods.
 */
export const CONTROL_HEARTBEAT_MS = 15_000
/** The HTTP upgrade request must be complete within this after connecting. */
export const CONTROL_UPGRADE_TIMEOUT_MS = 10_000
/** How long a client waits for the server's hello before giving up. */
export const CONTROL_HELLO_TIMEOUT_MS = 5_000
/** Largest `messages.send` text, in bytes of UTF-8: well inside one control message and one channel frame. */
export const MESSAGE_TEXT_MAX_BYTES = 16_384
/** Longest `pairing.join` timeout: an hour of looking for the code. */
export const MAX_JOIN_TIMEOUT_MS = 3_600_000
