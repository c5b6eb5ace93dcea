import { Decoder, Encoder } from 'cbor-x'
import type { z } from 'zod'
import { PairctlError } from './errors.js'

/**
 * The CBOR subset every pairctl wire format uses (`spec/README.md` §CBOR): maps with text keys,
 * unsigned/negative integers, byte strings, text strings, arrays, booleans and null; no floats, no
 * tags, no indefinite lengths. Encoding is deterministic (RFC 8949 §4.2.1): shortest integer forms
 * and map keys sorted by their encoded bytes (for text keys: shorter first, then bytewise).
 */
const encoder = new Encoder({
  useRecords: false,
  mapsAsObjects: true,
  tagUint8Array: false,
  variableMapSize: true,
  useFloat32: 0,
  largeBigIntToFloat: false,
})
const decoder = new Decoder({
  useRecords: false,
  mapsAsObjects: true,
  int64AsType: 'number',
} as ConstructorParameters<typeof Decoder>[0])

/** Wire decoding failures: malformed CBOR or a message that fails its schema. */
export class DecodeError extends PairctlError {
  constructor(message: string, cause?: unknown) {
    super('DECODE_FAILED', message, { cause, remote: true })
  }
}

/** Deterministically encodes `value` (objects' keys sorted; Uint8Array as CBOR byte strings). */
export function encodeCbor(value: unknown): Uint8Array {
  const bytes = encoder.encode(canonical(value))
  return new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength)
}

/**
 * Decodes one CBOR item from `bytes` and validates it with `schema`. Throws {@link DecodeError}
 * on malformed input, trailing bytes, tags or a schema mismatch; never anything else.
 */
export function decodeCbor<T extends z.ZodType>(schema: T, bytes: Uint8Array): z.output<T> {
  let value: unknown
  try {
    const items = decoder.decodeMultiple(
      Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength),
    ) as unknown[]
    if (items.length !== 1) throw new Error(`expected one CBOR item, found ${items.length}`)
    value = normalize(items[0])
  } catch (cause) {
    throw cause instanceof DecodeError ? cause : new DecodeError('malformed CBOR', cause)
  }
  const parsed = schema.safeParse(value)
  if (!parsed.success)
    throw new DecodeError(`invalid message: ${parsed.error.issues[0]?.message ?? 'schema'}`)
  return parsed.data
}

/** Like {@link decodeCbor} but returns `null` instead of throwing: for datagrams that are dropped. */
export function tryDecodeCbor<T extends z.ZodType>(schema: T, bytes: Uint8Array): z.output<T> | null {
  try {
    return decodeCbor(schema, bytes)
  } catch {
    return null
  }
}

function canonical(value: unknown): unknown {
  if (value instanceof Uint8Array)
    return Buffer.isBuffer(value) ? value : Buffer.from(value.buffer, value.byteOffset, value.byteLength)
  if (Array.isArray(value)) return value.map(canonical)
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {}
    for (const key of Object.keys(value).sort(compareKeys)) {
      const item = (value as Record<string, unknown>)[key]
      if (item !== undefined) out[key] = canonical(item)
    }
    return out
  }
  if (typeof value === 'number') return canonicalInteger(value)
  return value
}

/** cbor-x writes Numbers above 32 bits as float64; as BigInt they get the shortest (8-byte) integer form. */
function canonicalInteger(value: number): number | bigint {
  if (!Number.isSafeInteger(value)) throw new TypeError('only safe integers are in the pairctl CBOR subset')
  return Math.abs(value) > 0xffffffff ? BigInt(value) : value
}

function compareKeys(a: string, b: string): number {
  const la = Buffer.byteLength(a)
  const lb = Buffer.byteLength(b)
  return la !== lb ? la - lb : Buffer.compare(Buffer.from(a), Buffer.from(b))
}

function safeInteger(value: bigint): number {
  if (value > BigInt(Number.MAX_SAFE_INTEGER) || value < BigInt(Number.MIN_SAFE_INTEGER)) {
    throw new DecodeError('integer outside ±(2^53-1)')
  }
  return Number(value)
}

/**
 * Rejects what the subset excludes (tags, floats, Maps with non-text keys, integers beyond ±(2^53-1)),
 * turns 64-bit integers into Numbers and Buffers into Uint8Arrays.
 */
function normalize(value: unknown, depth = 0): unknown {
  if (depth > 16) throw new DecodeError('CBOR nested too deeply')
  if (value instanceof Uint8Array) return new Uint8Array(value.buffer, value.byteOffset, value.byteLength)
  if (Array.isArray(value)) return value.map((item) => normalize(item, depth + 1))
  if (typeof value === 'number' && !Number.isInteger(value)) throw new DecodeError('floats are not allowed')
  if (typeof value === 'bigint') return safeInteger(value)
  if (value === undefined) throw new DecodeError('undefined is not allowed')
  if (value !== null && typeof value === 'object') {
    if (Object.getPrototypeOf(value) !== Object.prototype)
      throw new DecodeError('unsupported CBOR item (tag or map key type)')
    const out: Record<string, unknown> = {}
    for (const [key, item] of Object.entries(value)) out[key] = normalize(item, depth + 1)
    return out
  }
  return value
}
