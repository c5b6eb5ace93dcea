import { ristretto255, ristretto255_hasher } from '@noble/curves/ed25519.js'
import { concatBytes, sha512, utf8 } from '../crypto/index.js'
import type { RandomSource } from './code.js'
import { PairingError } from './errors.js'

/**
 * CPace over ristretto255 with SHA-512 (draft-irtf-cfrg-cpace, "CPACE-RISTR255-SHA512", §4 and §7.4),
 * in its initiator-responder form (`transcript_ir`). Pure functions; the protocol around it is in
 * `handshake.ts` (`spec/pairing.md` §6).
 * @module
 */

const Point = ristretto255.Point

/** Domain separation strings of the ristretto255 cipher suite (draft §7.4). */
const DSI = utf8('CPaceRistretto255')
const DSI_ISK = utf8('CPaceRistretto255_ISK')
/** SHA-512 input block size s_in_bytes (draft §7.4): the generator string pads DSI and PRS to it. */
const HASH_BLOCK_BYTES = 128
/** Encoded ristretto255 points and scalars are 32 bytes. */
export const CPACE_POINT_BYTES = 32

/** `prepend_len` (draft Appendix A.1): LEB128 length followed by the data. */
export function prependLen(data: Uint8Array): Uint8Array {
  const length: number[] = []
  let rest = data.length
  do {
    length.push(rest >= 128 ? (rest & 0x7f) | 0x80 : rest)
    rest >>>= 7
  } while (rest > 0)
  return concatBytes(Uint8Array.from(length), data)
}

/** `lv_cat` (draft Appendix A.2): the concatenation of each argument with its length prepended. */
export function lvCat(...parts: Uint8Array[]): Uint8Array {
  return concatBytes(...parts.map(prependLen))
}

/** `generator_string` (draft §7.1): DSI, PRS, zero padding to the first hash block, CI, sid. */
export function generatorString(prs: Uint8Array, ci: Uint8Array, sid: Uint8Array): Uint8Array {
  const padding = Math.max(0, HASH_BLOCK_BYTES - 1 - prependLen(prs).length - prependLen(DSI).length)
  return lvCat(DSI, prs, new Uint8Array(padding), ci, sid)
}

/**
 * `calculate_generator` (draft §7.4): ristretto255 element derivation (RFC 9496 §4.3.4) of
 * SHA-512(generator_string), returned encoded.
 */
export function calculateGenerator(prs: Uint8Array, ci: Uint8Array, sid: Uint8Array): Uint8Array {
  return ristretto255_hasher.deriveToCurve!(sha512(generatorString(prs, ci, sid))).toBytes()
}

/** A scalar from 32 little-endian bytes reduced modulo the group order (test vectors give scalars so). */
export function scalarFromBytes(bytes: Uint8Array): bigint {
  let value = 0n
  for (let i = bytes.length - 1; i >= 0; i--) value = (value << 8n) | BigInt(bytes[i]!)
  return Point.Fn.create(value)
}

/** `sample_scalar` (draft §7.4): 64 uniform bytes reduced modulo the order; never zero. */
export function sampleScalar(random: RandomSource): bigint {
  for (;;) {
    const scalar = scalarFromBytes(random(64))
    if (scalar !== 0n) return scalar
  }
}

/** The public share Y = y·g, encoded (draft §6.2); `generator` as {@link calculateGenerator} returns it. */
export function cpaceShare(generator: Uint8Array, scalar: bigint): Uint8Array {
  return Point.fromBytes(generator).multiply(scalar).toBytes()
}

/**
 * `scalar_mult_vfy` (draft §7.4): decodes `encoded` and multiplies it by `scalar`, returning the
 * encoding of the result, or of the neutral element when `encoded` is not a canonical ristretto255
 * encoding. Callers abort when the result is the neutral element (draft §6.2).
 */
export function scalarMultVfy(scalar: bigint, encoded: Uint8Array): Uint8Array {
  try {
    const point = Point.fromBytes(encoded)
    return point.is0() ? Point.ZERO.toBytes() : point.multiply(scalar).toBytes()
  } catch {
    return Point.ZERO.toBytes()
  }
}

/** True for the encoding of the neutral element (32 zero bytes for ristretto255). */
export function isNeutral(encoded: Uint8Array): boolean {
  return encoded.every((byte) => byte === 0)
}

/** `transcript_ir` (draft §6.3.1): lv_cat(Ya, ADa) || lv_cat(Yb, ADb). */
export function transcriptIr(ya: Uint8Array, ada: Uint8Array, yb: Uint8Array, adb: Uint8Array): Uint8Array {
  return concatBytes(lvCat(ya, ada), lvCat(yb, adb))
}

/** ISK = SHA-512(lv_cat(DSI_ISK, sid, K) || transcript_ir(Ya, ADa, Yb, ADb)) (draft §6.3.1). */
export function intermediateSessionKey(sid: Uint8Array, k: Uint8Array, transcript: Uint8Array): Uint8Array {
  return sha512(lvCat(DSI_ISK, sid, k), transcript)
}

/** The inputs both parties agree on (draft §3.1). */
export interface CPaceContext {
  readonly prs: Uint8Array
  readonly ci: Uint8Array
  readonly sid: Uint8Array
}

/** Inputs of {@link deriveIsk}: this party's scalar and both shares with their associated data. */
export interface CPaceExchange {
  readonly sid: Uint8Array
  readonly scalar: bigint
  readonly ya: Uint8Array
  readonly ada: Uint8Array
  readonly yb: Uint8Array
  readonly adb: Uint8Array
  /** The share received from the peer (Ya or Yb), multiplied by `scalar`. */
  readonly peerShare: Uint8Array
}

/**
 * One party's ISK: K = scalar_mult_vfy(y, peer share), aborting with `PAIRING_PROTOCOL` when K is the
 * neutral element (an invalid or identity share, draft §6.2), then the `transcript_ir` ISK.
 */
export function deriveIsk(exchange: CPaceExchange): Uint8Array {
  const k = scalarMultVfy(exchange.scalar, exchange.peerShare)
  if (isNeutral(k)) throw PairingError.protocol('invalid CPace share (neutral element or not canonical)')
  const transcript = transcriptIr(exchange.ya, exchange.ada, exchange.yb, exchange.adb)
  return intermediateSessionKey(exchange.sid, k, transcript)
}
