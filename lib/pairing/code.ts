import { wordlist } from '@scure/bip39/wordlists/english.js'
import { randomBytes, sha256, utf8 } from '../crypto/index.js'
import {
  BITS_PER_WORD,
  DEFAULT_WORDS,
  MAX_WORDS,
  MIN_WORDS,
  RENDEZVOUS_DOMAIN,
  RENDEZVOUS_WORDS,
} from './constants.js'
import { PairingError } from './errors.js'

/** A source of uniformly random bytes; injected for test vectors, the CSPRNG otherwise. */
export type RandomSource = (length: number) => Uint8Array

/**
 * A pairing code (`spec/pairing.md` §1): BIP39 English words, the first 2 forming the public
 * rendezvous part and the rest (at least 3, 33 bits) the secret part. `text` is the canonical form,
 * words joined by dashes.
 */
export interface PairingCode {
  readonly rendezvous: readonly string[]
  readonly secret: readonly string[]
  readonly text: string
}

/** Index of each word's unique 4-letter prefix (BIP39 guarantees uniqueness in 4 letters). */
const byPrefix = new Map(wordlist.map((word) => [word.slice(0, 4), word]))
/** Suggestions further than this edit distance are not offered. */
const MAX_SUGGESTION_DISTANCE = 2

/** Entropy of the secret part in bits. */
export function secretBits(code: PairingCode): number {
  return code.secret.length * BITS_PER_WORD
}

/** Draws a fresh code of `total` words from `random` (`spec/pairing.md` §1). */
export function generateCode(total = DEFAULT_WORDS, random: RandomSource = randomBytes): PairingCode {
  checkWordCount(total)
  return makeCode(drawWords(total, random), RENDEZVOUS_WORDS)
}

/** The same secret words behind freshly drawn rendezvous words (the key was taken, §2). */
export function redrawRendezvous(code: PairingCode, random: RandomSource = randomBytes): PairingCode {
  return makeCode([...drawWords(code.rendezvous.length, random), ...code.secret], code.rendezvous.length)
}

/**
 * Parses a typed code: case-insensitive, words separated by spaces or dashes, each word either in full
 * or by its unique 4-letter prefix. Throws `PAIRING_UNKNOWN_WORD` (with a suggestion) or
 * `PAIRING_BAD_CODE` before anything touches the network.
 */
export function parseCode(text: string): PairingCode {
  const tokens = text
    .toLowerCase()
    .split(/[\s-]+/)
    .filter((token) => token !== '')
  checkWordCount(tokens.length)
  return makeCode(tokens.map(resolveWord), RENDEZVOUS_WORDS)
}

/**
 * The 32-byte DHT key of a code (`spec/pairing.md` §2):
 * SHA-256("pairctl/rendezvous/v1" || u8(total words) || rendezvous words joined by one space).
 * Derived from the rendezvous words only: nothing about the secret words leaves the device.
 */
export function rendezvousKey(code: PairingCode): Uint8Array {
  const total = code.rendezvous.length + code.secret.length
  return sha256(utf8(RENDEZVOUS_DOMAIN), Uint8Array.of(total), utf8(code.rendezvous.join(' ')))
}

/** The CPace password PRS (`spec/pairing.md` §6.1): the secret words joined by one space, UTF-8. */
export function codePassword(code: PairingCode): Uint8Array {
  return utf8(code.secret.join(' '))
}

/** The list word closest to `token` by edit distance, if any is close enough to be a likely typo. */
export function suggestWord(token: string): string | undefined {
  let best: string | undefined
  let bestDistance = MAX_SUGGESTION_DISTANCE + 1
  for (const word of wordlist) {
    const distance = editDistance(token, word)
    if (distance < bestDistance) {
      best = word
      bestDistance = distance
    }
  }
  return best
}

function makeCode(words: readonly string[], rendezvousCount: number): PairingCode {
  return {
    rendezvous: words.slice(0, rendezvousCount),
    secret: words.slice(rendezvousCount),
    text: words.join('-'),
  }
}

/** 11 uniform bits per word from 2 random bytes (65536 is a multiple of 2048: no modulo bias). */
function drawWords(count: number, random: RandomSource): string[] {
  const bytes = random(2 * count)
  return Array.from({ length: count }, (_, i) => wordlist[((bytes[2 * i]! << 8) | bytes[2 * i + 1]!) & 2047]!)
}

function checkWordCount(total: number): void {
  if (!Number.isInteger(total) || total < MIN_WORDS || total > MAX_WORDS)
    throw PairingError.badCode(`a code has ${MIN_WORDS} to ${MAX_WORDS} words, not ${total}`)
}

/** A full word, or a unique prefix of at least 4 letters of one. */
function resolveWord(token: string): string {
  const word = byPrefix.get(token.slice(0, 4))
  if (word !== undefined && (token.length >= 4 || token === word) && word.startsWith(token)) return word
  throw PairingError.unknownWord(token, suggestWord(token))
}

/** Levenshtein distance (insertions, deletions, substitutions), two-row dynamic programming. */
function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j)
  for (let i = 1; i <= a.length; i++) {
    const current = [i]
    for (let j = 1; j <= b.length; j++) {
      const substitution = previous[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1)
      current[j] = Math.min(previous[j]! + 1, current[j - 1]! + 1, substitution)
    }
    previous = current
  }
  return previous[b.length]!
}
