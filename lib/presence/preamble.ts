import { concatBytes, equalBytes, utf8 } from '../crypto/index.js'
import { PREAMBLE_LENGTH, PREAMBLE_MAGIC, PREAMBLE_SELECTORS } from './constants.js'

/**
 * The connection preamble (`spec/presence.md` §4): eight plaintext bytes that open every TCP connection to
 * a node's listener and say which Noise handshake follows, since the responder must pick the pattern and
 * prologue before it can read the first handshake message.
 * @module
 */

/** What follows a preamble: a pairing (Noise XX) or a reconnect (Noise IK). */
export type ConnectionPurpose = keyof typeof PREAMBLE_SELECTORS

const MAGIC = utf8(PREAMBLE_MAGIC)

/** The preamble an initiator writes before its first handshake message. */
export function encodePreamble(purpose: ConnectionPurpose): Uint8Array {
  return concatBytes(MAGIC, Uint8Array.of(PREAMBLE_SELECTORS[purpose]))
}

/** The purpose of a received preamble ({@link PREAMBLE_LENGTH} bytes), or null for anything else. */
export function parsePreamble(bytes: Uint8Array): ConnectionPurpose | null {
  if (bytes.length !== PREAMBLE_LENGTH || !equalBytes(bytes.subarray(0, MAGIC.length), MAGIC)) return null
  const selector = bytes[MAGIC.length]
  if (selector === PREAMBLE_SELECTORS.pairing) return 'pairing'
  if (selector === PREAMBLE_SELECTORS.reconnect) return 'reconnect'
  return null
}
