import { sha256, utf8 } from '../crypto/index.js'
import { PairctlError } from '../errors.js'

/** RFC 4648 §6 base32 alphabet. */
const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567'
/** Domain separation for the device-ID hash (`spec/identity.md` §2). */
const DOMAIN = utf8('pairctl/device-id/v1')
/** Bytes of the hash kept: 128 bits, 26 base32 characters. */
const HASH_BYTES = 16
/** The 26 data characters split in two halves of 13, each followed by a Luhn mod 32 check character. */
const HALF = 13

/** Errors of `lib/identity`. */
export class IdentityError extends PairctlError {}

/**
 * The device ID of an Ed25519 identity public key (`spec/identity.md` §2): base32 of the first 16 bytes
 * of SHA-256("pairctl/device-id/v1" || publicKey), split into two halves of 13 characters each followed by
 * a Luhn mod 32 check character, shown in 7 groups of 4 (`TIY7-RLZA-…`).
 */
export function deviceIdFromPublicKey(publicKey: Uint8Array): string {
  if (publicKey.length !== 32)
    throw new IdentityError('IDENTITY_BAD_KEY', 'an identity public key is 32 bytes')
  const data = base32(sha256(DOMAIN, publicKey).subarray(0, HASH_BYTES))
  const first = data.slice(0, HALF)
  const second = data.slice(HALF)
  return group(first + luhn32(first) + second + luhn32(second))
}

/**
 * Normalizes a device ID typed by a person (any case, with or without dashes or spaces) and checks its
 * check characters. Returns the canonical form, or throws {@link IdentityError} `IDENTITY_BAD_DEVICE_ID`.
 */
export function parseDeviceId(text: string): string {
  const compact = text.toUpperCase().replace(/[\s-]/g, '')
  const valid =
    compact.length === 2 * (HALF + 1) &&
    [...compact].every((c) => ALPHABET.includes(c)) &&
    luhn32(compact.slice(0, HALF)) === compact[HALF] &&
    luhn32(compact.slice(HALF + 1, 2 * HALF + 1)) === compact[2 * HALF + 1]
  if (!valid)
    throw new IdentityError('IDENTITY_BAD_DEVICE_ID', `"${text}" is not a valid device ID (check for typos)`)
  return group(compact)
}

/** RFC 4648 base32 without padding. */
function base32(bytes: Uint8Array): string {
  let out = ''
  let buffer = 0
  let bits = 0
  for (const byte of bytes) {
    buffer = (buffer << 8) | byte
    bits += 8
    while (bits >= 5) {
      out += ALPHABET[(buffer >>> (bits - 5)) & 31]
      bits -= 5
    }
  }
  if (bits > 0) out += ALPHABET[(buffer << (5 - bits)) & 31]
  return out
}

/** The Luhn mod N check character (N = 32) of a base32 string, as Syncthing uses it. */
function luhn32(text: string): string {
  let factor = 1
  let sum = 0
  for (const char of text) {
    const addend = factor * ALPHABET.indexOf(char)
    factor = factor === 2 ? 1 : 2
    sum += Math.floor(addend / 32) + (addend % 32)
  }
  return ALPHABET[(32 - (sum % 32)) % 32]!
}

function group(compact: string): string {
  return compact.match(/.{1,4}/g)!.join('-')
}
