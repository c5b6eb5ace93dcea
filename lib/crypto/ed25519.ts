import { createPrivateKey, createPublicKey, type KeyObject, sign, verify } from 'node:crypto'
import { asBuffer, toHex } from './bytes.js'
import { assertLength } from './errors.js'
import { randomBytes } from './random.js'

/** PKCS#8 prefix of a raw Ed25519 seed (RFC 8410 §7): used once per key pair. */
const PKCS8_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex')
/** Verification KeyObjects kept, so a busy DHT node does not re-import the same publishers' keys. */
const VERIFY_CACHE_SIZE = 1024
const verifyKeys = new Map<string, KeyObject>()

/** An Ed25519 key pair (RFC 8032 §5.1) from a 32-byte seed, with the signing KeyObject cached. */
export class Ed25519KeyPair {
  readonly publicKey: Uint8Array
  readonly seed: Uint8Array
  readonly #key: KeyObject

  private constructor(seed: Uint8Array) {
    assertLength('Ed25519 seed', seed, 32)
    this.seed = seed
    this.#key = createPrivateKey({ key: Buffer.concat([PKCS8_PREFIX, seed]), format: 'der', type: 'pkcs8' })
    const spki = createPublicKey(this.#key).export({ format: 'der', type: 'spki' })
    this.publicKey = new Uint8Array(spki.subarray(spki.length - 32))
  }

  /** A fresh key pair from the CSPRNG. */
  static generate(): Ed25519KeyPair {
    return new Ed25519KeyPair(randomBytes(32))
  }

  /** The key pair of a 32-byte seed (the RFC 8032 private key). */
  static fromSeed(seed: Uint8Array): Ed25519KeyPair {
    return new Ed25519KeyPair(Uint8Array.from(seed))
  }

  /** The 64-byte Ed25519 signature of `message` (RFC 8032 §5.1.6; deterministic). */
  sign(message: Uint8Array): Uint8Array {
    return new Uint8Array(sign(null, message, this.#key))
  }
}

/**
 * Verifies an Ed25519 signature (RFC 8032 §5.1.7, as OpenSSL implements it). Returns false for a
 * wrong-length key or signature or an undecodable key instead of throwing: the caller treats every
 * bad signature alike.
 */
export function ed25519Verify(publicKey: Uint8Array, message: Uint8Array, signature: Uint8Array): boolean {
  if (publicKey.length !== 32 || signature.length !== 64) return false
  try {
    return verify(null, message, verifyKey(publicKey), signature)
  } catch {
    return false
  }
}

function verifyKey(publicKey: Uint8Array): KeyObject {
  const id = toHex(publicKey)
  let key = verifyKeys.get(id)
  if (key === undefined) {
    key = createPublicKey({
      key: { kty: 'OKP', crv: 'Ed25519', x: asBuffer(publicKey).toString('base64url') },
      format: 'jwk',
    })
    if (verifyKeys.size >= VERIFY_CACHE_SIZE) verifyKeys.delete(verifyKeys.keys().next().value as string)
    verifyKeys.set(id, key)
  }
  return key
}

/** A fresh 32-byte seed; exported for callers that store seeds (identity files). */
export function generateSeed(): Uint8Array {
  return randomBytes(32)
}
