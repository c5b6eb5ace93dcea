/**
 * A fast deterministic CBOR encoder for DHT datagrams: byte-for-byte what `encodeCbor` of
 * `lib/cbor.ts` produces (RFC 8949 §4.2.1: shortest heads, map keys sorted by encoded bytes), for the
 * subset DHT messages use (unsigned integers, byte and text strings, arrays, maps, booleans). It
 * writes into one scratch buffer instead of copying every byte string into a Buffer, which made
 * replies 4x cheaper to build; the test suite checks it against `encodeCbor`.
 */
const scratch = new Uint8Array(64 * 1024)
const encoder = new TextEncoder()
const sortedKeys = new Map<string, string[]>()
/** Encoded keys and namespace names: few distinct strings, encoded once. */
const texts = new Map<string, Uint8Array>()

/** Encodes `value` (objects, arrays, Uint8Array, strings, non-negative safe integers, booleans). */
export function encodeDatagram(value: unknown): Uint8Array {
  const end = write(value, 0)
  return scratch.slice(0, end)
}

function write(value: unknown, at: number): number {
  if (value instanceof Uint8Array) {
    at = head(2, value.length, at)
    scratch.set(value, at)
    return at + value.length
  }
  if (typeof value === 'number') return writeInteger(value, at)
  if (typeof value === 'string') return writeText(value, at)
  if (typeof value === 'boolean') {
    scratch[at] = value ? 0xf5 : 0xf4
    return at + 1
  }
  if (Array.isArray(value)) {
    at = head(4, value.length, at)
    for (const item of value) at = write(item, at)
    return at
  }
  return writeMap(value as Record<string, unknown>, at)
}

function writeInteger(value: number, at: number): number {
  if (!Number.isSafeInteger(value) || value < 0) throw new TypeError('only non-negative safe integers')
  return head(0, value, at)
}

function writeText(value: string, at: number): number {
  let bytes = texts.get(value)
  if (bytes === undefined) {
    bytes = encoder.encode(value)
    if (texts.size < 1024) texts.set(value, bytes)
  }
  at = head(3, bytes.length, at)
  scratch.set(bytes, at)
  return at + bytes.length
}

function writeMap(value: Record<string, unknown>, at: number): number {
  const keys = keysOf(value).filter((key) => value[key] !== undefined)
  at = head(5, keys.length, at)
  for (const key of keys) {
    at = writeText(key, at)
    at = write(value[key], at)
  }
  return at
}

/** Keys in deterministic order (shorter first, then bytewise), memoized per key set. */
function keysOf(value: Record<string, unknown>): string[] {
  const keys = Object.keys(value)
  const id = keys.join(',')
  let sorted = sortedKeys.get(id)
  if (sorted === undefined) {
    sorted = [...keys].sort((a, b) => a.length - b.length || (a < b ? -1 : a > b ? 1 : 0))
    if (sortedKeys.size < 1024) sortedKeys.set(id, sorted)
  }
  return sorted
}

/** A CBOR head: major type and argument in the shortest form. */
function head(major: number, argument: number, at: number): number {
  const type = major << 5
  if (argument < 24) {
    scratch[at] = type | argument
    return at + 1
  }
  if (argument < 0x100) {
    scratch[at] = type | 24
    scratch[at + 1] = argument
    return at + 2
  }
  if (argument < 0x10000) {
    scratch[at] = type | 25
    scratch[at + 1] = argument >> 8
    scratch[at + 2] = argument & 0xff
    return at + 3
  }
  if (argument < 0x100000000) {
    scratch[at] = type | 26
    new DataView(scratch.buffer).setUint32(at + 1, argument)
    return at + 5
  }
  scratch[at] = type | 27
  new DataView(scratch.buffer).setBigUint64(at + 1, BigInt(argument))
  return at + 9
}

const decoder = new TextDecoder('utf-8', { fatal: true })
/** Nesting depth `lib/cbor.ts` allows; DHT messages need 4. */
const MAX_DEPTH = 16

/** Thrown inside {@link decodeDatagram} on anything outside the subset; never escapes it. */
class Reject extends Error {}

/**
 * Decodes one datagram of the pairctl CBOR subset (`spec/README.md` §CBOR) into plain objects, byte
 * strings as views of `bytes`: what `decodeCbor` of `lib/cbor.ts` yields before its schema check,
 * without going through a generic decoder and a second normalising pass (3-4x cheaper per datagram).
 * Stricter where the subset is silent: duplicate map keys and invalid UTF-8 are rejected. Null for
 * malformed input, trailing bytes, tags, floats, undefined, non-text map keys or integers beyond
 * ±(2^53-1). The caller validates the result with its zod schema.
 */
export function decodeDatagram(bytes: Uint8Array): unknown {
  try {
    const reader = { bytes, at: 0 }
    const value = read(reader, 0)
    return reader.at === bytes.length ? value : null
  } catch (error) {
    if (error instanceof Reject || error instanceof RangeError || error instanceof TypeError) return null
    throw error
  }
}

interface Reader {
  bytes: Uint8Array
  at: number
}

function read(reader: Reader, depth: number): unknown {
  if (depth > MAX_DEPTH) throw new Reject()
  const initial = byteAt(reader)
  const major = initial >> 5
  if (major === 7) return simple(initial)
  const argument = readArgument(reader, initial & 0x1f)
  switch (major) {
    case 0:
      return argument
    case 1:
      return -1 - argument
    case 2:
      return take(reader, argument)
    case 3:
      return text(take(reader, argument))
    case 4:
      return readArray(reader, argument, depth)
    case 5:
      return readMap(reader, argument, depth)
    default:
      throw new Reject()
  }
}

function readArray(reader: Reader, length: number, depth: number): unknown[] {
  if (length > reader.bytes.length - reader.at) throw new Reject()
  const out = new Array<unknown>(length)
  for (let i = 0; i < length; i++) out[i] = read(reader, depth + 1)
  return out
}

function readMap(reader: Reader, length: number, depth: number): Record<string, unknown> {
  const out: Record<string, unknown> = {}
  for (let i = 0; i < length; i++) {
    const key = read(reader, depth + 1)
    if (typeof key !== 'string' || key === '__proto__' || Object.hasOwn(out, key)) throw new Reject()
    out[key] = read(reader, depth + 1)
  }
  return out
}

/** false, true, null; everything else of major type 7 (undefined, floats, breaks) is outside the subset. */
function simple(initial: number): boolean | null {
  if (initial === 0xf4) return false
  if (initial === 0xf5) return true
  if (initial === 0xf6) return null
  throw new Reject()
}

/** A head's argument; indefinite lengths and integers beyond 2^53-1 are rejected. */
function readArgument(reader: Reader, info: number): number {
  if (info < 24) return info
  if (info === 24) return byteAt(reader)
  if (info === 25) return (byteAt(reader) << 8) | byteAt(reader)
  if (info === 26)
    return ((byteAt(reader) << 24) >>> 0) + (byteAt(reader) << 16) + (byteAt(reader) << 8) + byteAt(reader)
  if (info !== 27) throw new Reject()
  const high = readArgument(reader, 26)
  const low = readArgument(reader, 26)
  if (high > 0x1fffff) throw new Reject()
  return high * 0x100000000 + low
}

/** UTF-8 text; short ASCII (every map key, every namespace) without a TextDecoder call. */
function text(bytes: Uint8Array): string {
  if (bytes.length > 16) return decoder.decode(bytes)
  let out = ''
  for (const byte of bytes) {
    if (byte > 0x7f) return decoder.decode(bytes)
    out += String.fromCharCode(byte)
  }
  return out
}

function byteAt(reader: Reader): number {
  const byte = reader.bytes[reader.at++]
  if (byte === undefined) throw new Reject()
  return byte
}

function take(reader: Reader, length: number): Uint8Array {
  const end = reader.at + length
  if (end > reader.bytes.length) throw new Reject()
  const out = reader.bytes.subarray(reader.at, end)
  reader.at = end
  return out
}
