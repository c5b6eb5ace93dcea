import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { isDeepStrictEqual } from 'node:util'
import fc from 'fast-check'
import { encodeCbor } from '../../../lib/cbor.js'
import type { PairctlError } from '../../../lib/errors.js'

/**
 * Shared fast-check arbitraries for the fuzz tests: mutations of valid samples (bit flips, byte edits,
 * truncations, insertions) and CBOR maps whose fields have the wrong types. Every fuzz test runs with
 * {@link FUZZ_SEED} so a failure reproduces; fast-check prints the seed and path of a counterexample.
 */
export const FUZZ_SEED = 17

/** fast-check parameters for a property run `numRuns` times from the fixed seed. */
export function runs(numRuns: number): fc.Parameters<unknown> {
  return { numRuns, seed: FUZZ_SEED }
}

type Edit =
  | { kind: 'flip'; at: number; bit: number }
  | { kind: 'set'; at: number; byte: number }
  | { kind: 'cut'; at: number }
  | { kind: 'insert'; at: number; bytes: Uint8Array }
  | { kind: 'drop'; at: number; length: number }

const edit: fc.Arbitrary<Edit> = fc.oneof(
  fc.record({ kind: fc.constant('flip' as const), at: fc.nat(), bit: fc.nat(7) }),
  fc.record({ kind: fc.constant('set' as const), at: fc.nat(), byte: fc.nat(255) }),
  fc.record({ kind: fc.constant('cut' as const), at: fc.nat() }),
  fc.record({
    kind: fc.constant('insert' as const),
    at: fc.nat(),
    bytes: fc.uint8Array({ minLength: 1, maxLength: 8 }),
  }),
  fc.record({ kind: fc.constant('drop' as const), at: fc.nat(), length: fc.integer({ min: 1, max: 8 }) }),
)

function applyEdit(bytes: Uint8Array, change: Edit): Uint8Array {
  const at = bytes.length === 0 ? 0 : change.at % bytes.length
  switch (change.kind) {
    case 'flip': {
      const copy = Uint8Array.from(bytes)
      if (copy.length > 0) copy[at]! ^= 1 << change.bit
      return copy
    }
    case 'set': {
      const copy = Uint8Array.from(bytes)
      if (copy.length > 0) copy[at] = change.byte
      return copy
    }
    case 'cut':
      return bytes.slice(0, change.at % (bytes.length + 1))
    case 'insert': {
      const out = new Uint8Array(bytes.length + change.bytes.length)
      out.set(bytes.subarray(0, at))
      out.set(change.bytes, at)
      out.set(bytes.subarray(at), at + change.bytes.length)
      return out
    }
    case 'drop': {
      const tail = bytes.subarray(Math.min(bytes.length, at + change.length))
      const out = new Uint8Array(at + tail.length)
      out.set(bytes.subarray(0, at))
      out.set(tail, at)
      return out
    }
  }
}

/** Applies `edits` to a copy of `bytes`, in order. Exported for the fuzz script, which mutates without fast-check. */
export function mutate(bytes: Uint8Array, edits: readonly Edit[]): Uint8Array {
  return edits.reduce(applyEdit, bytes)
}

/** One of `samples` with 1-4 edits, never equal to the sample itself unless the edits cancel out. */
export function mutationOf(samples: readonly Uint8Array[]): fc.Arbitrary<Uint8Array> {
  return fc
    .tuple(fc.nat(samples.length - 1), fc.array(edit, { minLength: 1, maxLength: 4 }))
    .map(([index, edits]) => mutate(samples[index]!, edits))
}

/** Random bytes up to `maxLength`, or a mutation of one of `samples`: the usual fuzz input. */
export function garbageOr(samples: readonly Uint8Array[], maxLength = 300): fc.Arbitrary<Uint8Array> {
  return fc.oneof(fc.uint8Array({ maxLength }), mutationOf(samples))
}

/** Any value of the pairctl CBOR subset (`spec/README.md` §CBOR), nested a little. */
export const cborValue: fc.Arbitrary<unknown> = fc.letrec((tie) => ({
  node: fc.oneof({ depthSize: 'small' }, tie('leaf'), tie('array'), tie('map')),
  leaf: fc.oneof(
    fc.uint8Array({ maxLength: 40 }),
    fc.string({ maxLength: 20 }),
    fc.maxSafeNat(),
    fc.integer({ min: -1000, max: -1 }),
    fc.boolean(),
    fc.constant(null),
  ),
  array: fc.array(tie('node'), { maxLength: 4 }),
  map: fc.dictionary(fc.string({ minLength: 1, maxLength: 6 }), tie('node'), { maxKeys: 4 }),
})).node

/**
 * One of `samples` (decoded maps) with one field replaced by an arbitrary value, deleted, or an extra
 * field added: "wrong types in maps". The value may by chance still be valid, so properties accept a
 * successful decode too and check it is then well-typed.
 */
export function fieldMutationOf(
  samples: readonly Record<string, unknown>[],
): fc.Arbitrary<Record<string, unknown>> {
  return fc
    .tuple(
      fc.nat(samples.length - 1),
      fc.nat(),
      fc.constantFrom('replace' as const, 'delete' as const, 'add' as const),
      cborValue,
      fc.string({ minLength: 1, maxLength: 4 }),
    )
    .map(([index, which, how, value, extraKey]) => {
      const sample = { ...samples[index]! }
      const keys = Object.keys(sample)
      const key = keys[which % keys.length]!
      if (how === 'replace') sample[key] = value
      else if (how === 'delete') delete sample[key]
      else sample[extraKey in sample ? `${extraKey}_` : extraKey] = value
      return sample
    })
}

/** {@link fieldMutationOf} encoded as CBOR: for wire decoders. */
export function cborFieldMutationOf(samples: readonly Record<string, unknown>[]): fc.Arbitrary<Uint8Array> {
  return fieldMutationOf(samples).map(encodeCbor)
}

/** JSON text of `value`, byte strings as arrays of numbers (state files and control requests are JSON). */
export function jsonText(value: unknown): string {
  return JSON.stringify(value, (_key, item) => (item instanceof Uint8Array ? [...item] : item))
}

/**
 * Runs `decode` on `input`: 'ok' when it returns, the error's `code` when it throws a PairctlError of
 * class `errorClass` whose code is in `codes`, otherwise a description of the stray error (which a
 * property then reports as its counterexample).
 */
export function outcome(
  decode: () => unknown,
  errorClass: abstract new (...args: never[]) => PairctlError,
  codes: readonly string[],
): string {
  try {
    decode()
    return 'ok'
  } catch (error) {
    if (error instanceof errorClass && codes.includes(error.code)) return error.code
    return `stray ${error instanceof Error ? `${error.name}: ${error.message}` : String(error)}`
  }
}

/** Deep equality of decoded wire values, ignoring keys whose value is undefined (absent on the wire). */
export function sameValue(actual: unknown, expected: unknown): boolean {
  return isDeepStrictEqual(definedOnly(actual), definedOnly(expected))
}

function definedOnly(value: unknown): unknown {
  if (value instanceof Uint8Array) return Uint8Array.from(value)
  if (Array.isArray(value)) return value.map(definedOnly)
  if (value !== null && typeof value === 'object')
    return Object.fromEntries(
      Object.entries(value)
        .filter(([, item]) => item !== undefined)
        .map(([key, item]) => [key, definedOnly(item)]),
    )
  return value
}

/**
 * A seeded xorshift32 source for the fuzz script, which draws millions of inputs where fast-check's
 * per-run overhead would dominate; the same seed gives the same inputs.
 */
export class SeededRandom {
  #state: number

  constructor(seed = FUZZ_SEED) {
    this.#state = seed >>> 0 || 1
  }

  #next(): number {
    let x = this.#state
    x ^= x << 13
    x ^= x >>> 17
    x ^= x << 5
    this.#state = x >>> 0
    return this.#state
  }

  /** An integer in [0, bound). */
  below(bound: number): number {
    return this.#next() % bound
  }

  /** `length` random bytes, four per step: the script draws gigabytes of them. */
  bytes(length: number): Uint8Array {
    const out = new Uint8Array(length)
    for (let i = 0; i < length; i += 4) {
      const word = this.#next()
      out[i] = word
      out[i + 1] = word >>> 8
      out[i + 2] = word >>> 16
      out[i + 3] = word >>> 24
    }
    return out
  }

  pick<T>(items: readonly T[]): T {
    return items[this.below(items.length)]!
  }

  /** `bytes` with 1-4 random edits of the kinds {@link mutationOf} makes. */
  mutation(bytes: Uint8Array): Uint8Array {
    const edits: Edit[] = Array.from({ length: 1 + this.below(4) }, () => {
      const at = this.below(0x10000)
      switch (this.below(5)) {
        case 0:
          return { kind: 'flip', at, bit: this.below(8) }
        case 1:
          return { kind: 'set', at, byte: this.below(256) }
        case 2:
          return { kind: 'cut', at }
        case 3:
          return { kind: 'insert', at, bytes: this.bytes(1 + this.below(8)) }
        default:
          return { kind: 'drop', at, length: 1 + this.below(8) }
      }
    })
    return mutate(bytes, edits)
  }

  /** Random bytes (a third of the time) or a mutation of one of `samples`. */
  input(samples: readonly Uint8Array[], maxLength: number): Uint8Array {
    return this.below(3) === 0 ? this.bytes(this.below(maxLength + 1)) : this.mutation(this.pick(samples))
  }
}

/** Addresses as adverts, presence records and the device store carry them (`spec/pairing.md` §3). */
export const advertAddress = fc.oneof(
  fc.record({
    host: fc.oneof(fc.ipV4(), fc.ipV6(), fc.domain()),
    port: fc.integer({ min: 1, max: 65535 }),
    transport: fc.constant('tcp' as const),
  }),
  fc.record({
    host: fc.oneof(fc.ipV4(), fc.domain()),
    port: fc.integer({ min: 1, max: 65535 }),
    transport: fc.constant('relay' as const),
  }),
)

/**
 * True when an error message is one V8 writes for a TypeError or RangeError (or an error's name): cores
 * that turn anything thrown into their protocol code must not be hiding a decoder bug behind it.
 */
export function looksInternal(message: string): boolean {
  return /TypeError|RangeError|ReferenceError|Cannot read properties|is not a function|is not iterable|Invalid array length|Invalid typed array length|out of range|outside the bounds|Maximum call stack/.test(
    message,
  )
}

/**
 * Corrupt versions of a JSON state file whose valid content is `valid`: byte mutations of its text,
 * the object in `valid` with a field of wrong type (or `inner(object)` mutated, for files whose
 * entries live in a list), and random text.
 */
export function stateFileCorruptions(
  valid: Record<string, unknown>,
  entries: { of: (file: Record<string, unknown>) => Record<string, unknown>[]; key: string } | null = null,
): fc.Arbitrary<string> {
  const text = `${jsonText(valid)}\n`
  const whole = fieldMutationOf([JSON.parse(text)]).map(jsonText)
  const arbitraries = [
    fc.string({ maxLength: 200 }),
    mutationOf([Buffer.from(text)]).map((b) => Buffer.from(b).toString('utf8')),
    whole,
  ]
  if (entries !== null) {
    const inner = fieldMutationOf(entries.of(JSON.parse(text))).map((entry) =>
      jsonText({ ...JSON.parse(text), [entries.key]: [entry] }),
    )
    arbitraries.push(inner)
  }
  return fc.oneof(...arbitraries)
}

/** A fresh directory under the system temp dir, removed at teardown; `next()` gives a new subdirectory. */
export async function scratchDirs(t: { teardown(fn: () => unknown): void }, name: string) {
  const root = await mkdtemp(join(tmpdir(), `pairctl-fuzz-${name}-`))
  t.teardown(() => rm(root, { recursive: true, force: true }))
  let count = 0
  return { root, next: () => join(root, String(count++)) }
}
