/**
 * Value codecs of the non-address attributes pairctl reads or writes: ERROR-CODE (RFC 8489 §14.8),
 * UNKNOWN-ATTRIBUTES (§14.9), text attributes (SOFTWARE §14.14, REALM, NONCE, USERNAME) and
 * CHANGE-REQUEST (RFC 5780 §7.2). Spec: `spec/stun.md` §3.
 * @module
 */

import { readUint16, writeUint16 } from './bytes.js'
import { CHANGE_IP, CHANGE_PORT } from './constants.js'
import { StunError } from './errors.js'

const encoder = new TextEncoder()
const decoder = new TextDecoder('utf-8', { fatal: true })

/** ERROR-CODE: class (hundreds) and number in bytes 2..3, then a UTF-8 reason phrase. */
export function encodeErrorCode(code: number, reason: string): Uint8Array {
  const text = encoder.encode(reason)
  const out = new Uint8Array(4 + text.length)
  out[2] = Math.floor(code / 100)
  out[3] = code % 100
  out.set(text, 4)
  return out
}

/** Decodes ERROR-CODE; throws `STUN_MALFORMED` unless the code is in 300..699 (RFC 8489 §14.8). */
export function decodeErrorCode(value: Uint8Array): { code: number; reason: string } {
  if (value.length < 4) throw StunError.malformed('ERROR-CODE shorter than 4 bytes')
  const code = (value[2]! & 0x07) * 100 + value[3]!
  if (code < 300 || code > 699 || value[3]! > 99) throw StunError.malformed(`ERROR-CODE ${code} out of range`)
  return { code, reason: decodeText(value.subarray(4)) }
}

/** UNKNOWN-ATTRIBUTES: a list of 16-bit attribute types. */
export function encodeUnknownAttributes(types: number[]): Uint8Array {
  const out = new Uint8Array(types.length * 2)
  types.forEach((t, i) => {
    writeUint16(out, i * 2, t)
  })
  return out
}

/** Decodes UNKNOWN-ATTRIBUTES; an odd length is malformed. */
export function decodeUnknownAttributes(value: Uint8Array): number[] {
  if (value.length % 2 !== 0) throw StunError.malformed('UNKNOWN-ATTRIBUTES of odd length')
  return Array.from({ length: value.length / 2 }, (_, i) => readUint16(value, i * 2))
}

/** The two CHANGE-REQUEST flags of RFC 5780 §7.2. */
export interface ChangeRequest {
  ip?: boolean
  port?: boolean
}

/** CHANGE-REQUEST: 32 bits, A (change IP) = 0x4, B (change port) = 0x2. */
export function encodeChangeRequest(change: ChangeRequest): Uint8Array {
  const out = new Uint8Array(4)
  out[3] = (change.ip ? CHANGE_IP : 0) | (change.port ? CHANGE_PORT : 0)
  return out
}

/** Decodes CHANGE-REQUEST; anything but 4 bytes is malformed. */
export function decodeChangeRequest(value: Uint8Array): Required<ChangeRequest> {
  if (value.length !== 4) throw StunError.malformed(`CHANGE-REQUEST of ${value.length} bytes`)
  return { ip: (value[3]! & CHANGE_IP) !== 0, port: (value[3]! & CHANGE_PORT) !== 0 }
}

/** UTF-8 text of a text attribute; invalid sequences are malformed rather than replaced. */
export function decodeText(value: Uint8Array): string {
  try {
    return decoder.decode(value)
  } catch (cause) {
    throw StunError.malformed(`invalid UTF-8 text attribute (${String(cause)})`)
  }
}

/** UTF-8 bytes of a text attribute. */
export function encodeText(text: string): Uint8Array {
  return encoder.encode(text)
}
