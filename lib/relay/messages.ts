import { z } from 'zod'
import { decodeCbor, encodeCbor } from '../cbor.js'
import { CIRCUIT_ID_BYTES, MAX_TOKENS_PER_RESERVATION, RELAY_VERSION, TOKEN_BYTES } from './constants.js'

/**
 * The relay's control messages (`spec/relay.md` §3.2): CBOR maps in WebSocket binary messages, sent
 * before a circuit is spliced. After `connected`, every message is opaque data.
 * @module
 */

const bytesOf = (length: number) =>
  z.custom<Uint8Array>((value) => value instanceof Uint8Array && value.length === length, `${length} bytes`)
const token = bytesOf(TOKEN_BYTES)
const circuit = bytesOf(CIRCUIT_ID_BYTES)
const v = z.literal(RELAY_VERSION)

/** Client → relay. */
const ClientMessageSchema = z.discriminatedUnion('t', [
  z.object({ v, t: z.literal('reserve'), tks: z.array(token).min(1).max(MAX_TOKENS_PER_RESERVATION) }),
  z.object({ v, t: z.literal('connect'), tk: token }),
  z.object({ v, t: z.literal('accept'), c: circuit }),
])
/** Relay → client. */
const RelayMessageSchema = z.discriminatedUnion('t', [
  z.object({ v, t: z.literal('reserved'), ttl: z.number().int().positive() }),
  z.object({ v, t: z.literal('incoming'), c: circuit, tk: token }),
  z.object({ v, t: z.literal('connected') }),
])

export type ClientMessage = z.output<typeof ClientMessageSchema>
export type RelayMessage = z.output<typeof RelayMessageSchema>

/** Encodes a client message (deterministic CBOR). */
export function encodeClientMessage(message: ClientMessage): Uint8Array {
  return encodeCbor(message)
}

/** Decodes a client message; throws `DECODE_FAILED` on anything else. */
export function decodeClientMessage(bytes: Uint8Array): ClientMessage {
  return decodeCbor(ClientMessageSchema, bytes)
}

/** Encodes a relay message (deterministic CBOR). */
export function encodeRelayMessage(message: RelayMessage): Uint8Array {
  return encodeCbor(message)
}

/** Decodes a relay message; throws `DECODE_FAILED` on anything else. */
export function decodeRelayMessage(bytes: Uint8Array): RelayMessage {
  return decodeCbor(RelayMessageSchema, bytes)
}
