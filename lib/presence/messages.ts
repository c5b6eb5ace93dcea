import { z } from 'zod'
import { decodeCbor, encodeCbor } from '../cbor.js'
import { MAX_TEXT_BYTES, PRESENCE_VERSION } from './constants.js'
import { PresenceError } from './errors.js'

/**
 * Messages on a reconnect link (`spec/presence.md` §5), one CBOR map per channel message: `hello` (the
 * first message of each side: proves the link live to the other), `text` (messaging), `unpair` (the
 * sender removed the pairing; last) and `error` (last).
 * @module
 */

/** Codes a node may send in an `error` link message. */
export const LINK_ERROR_CODES = ['PRESENCE_NOT_PAIRED', 'PRESENCE_PROTOCOL'] as const

const LinkMessage = z.discriminatedUnion('type', [
  z.object({ v: z.literal(PRESENCE_VERSION), type: z.literal('hello') }),
  z.object({
    v: z.literal(PRESENCE_VERSION),
    type: z.literal('text'),
    text: z.string().refine((text) => Buffer.byteLength(text) <= MAX_TEXT_BYTES, 'text too long'),
  }),
  z.object({ v: z.literal(PRESENCE_VERSION), type: z.literal('unpair') }),
  z.object({ v: z.literal(PRESENCE_VERSION), type: z.literal('error'), code: z.enum(LINK_ERROR_CODES) }),
])
/** One link message. */
export type LinkMessage = z.output<typeof LinkMessage>

/** Encodes a link message; a text over {@link MAX_TEXT_BYTES} is `PRESENCE_BAD_OPTION`. */
export function encodeLinkMessage(message: LinkMessage): Uint8Array {
  if (message.type === 'text' && Buffer.byteLength(message.text) > MAX_TEXT_BYTES)
    throw PresenceError.badOption(`a message is at most ${MAX_TEXT_BYTES} bytes of UTF-8`)
  return encodeCbor(message)
}

/** Decodes a link message; `PRESENCE_PROTOCOL` for anything else. */
export function decodeLinkMessage(bytes: Uint8Array): LinkMessage {
  try {
    return decodeCbor(LinkMessage, bytes)
  } catch (err) {
    throw PresenceError.protocol(err instanceof Error ? err.message : String(err), err)
  }
}
