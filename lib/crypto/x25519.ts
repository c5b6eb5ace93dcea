import {
  createPrivateKey,
  createPublicKey,
  diffieHellman,
  generateKeyPairSync,
  type KeyObject,
} from 'node:crypto'
import { asBuffer } from './bytes.js'
import { assertLength, CryptoError } from './errors.js'

/** PKCS#8 prefix of a raw X25519 private key (RFC 8410 §7): only for keys loaded from storage. */
const PKCS8_PREFIX = Buffer.from('302e020100300506032b656e04220420', 'hex')

/** An X25519 public key as OpenSSL takes it without a DER decoder (RFC 8037 §2 OKP JWK). */
function importPublicKey(publicKey: Uint8Array): KeyObject {
  return createPublicKey({
    key: { kty: 'OKP', crv: 'X25519', x: asBuffer(publicKey).toString('base64url') },
    format: 'jwk',
  })
}

/** How many recently imported peer public keys {@link publicKeyObject} keeps. */
const RECENT_PUBLIC_KEYS = 8
/** Most recent first. Public values, matched by content, so a caller mutating its bytes cannot confuse it. */
const recentPublicKeys: { bytes: Buffer; key: KeyObject }[] = []

/**
 * The KeyObject of a peer public key, imported once for the DHs that use it close together: a Noise
 * handshake uses the peer's ephemeral key twice (XX `ee` then `es` or `se`), and an import costs about a
 * third of a DH.
 */
function publicKeyObject(publicKey: Uint8Array): KeyObject {
  const bytes = asBuffer(publicKey)
  const hit = recentPublicKeys.find((entry) => entry.bytes.equals(bytes))
  if (hit !== undefined) return hit.key
  const key = importPublicKey(publicKey)
  recentPublicKeys.unshift({ bytes: Buffer.from(bytes), key })
  recentPublicKeys.length = Math.min(recentPublicKeys.length, RECENT_PUBLIC_KEYS)
  return key
}

/** The X25519 base point u = 9 (RFC 7748 §4.1). */
const BASE_POINT = importPublicKey(Uint8Array.of(9, ...new Uint8Array(31)))

/**
 * An X25519 key pair (RFC 7748 §5) whose private KeyObject is cached.
 *
 * Fresh pairs are generated inside OpenSSL. The public key is computed as X25519(k, 9) (RFC 7748 §6.1):
 * one scalar multiplication costs less than half of reading the key out through OpenSSL's DER encoder;
 * importing a random scalar as PKCS#8 costs ~1 ms in OpenSSL 3's decoder; and exporting a freshly
 * generated key as JWK, though faster, once deadlocked Node 20 (GC/key mutex). The raw private key is
 * exported only when asked for (to store a long-term key), so ephemeral keys never pay for it.
 */
export class X25519KeyPair {
  readonly publicKey: Uint8Array
  readonly #key: KeyObject
  #privateKey: Uint8Array | undefined

  private constructor(key: KeyObject, privateKey?: Uint8Array) {
    this.#key = key
    this.#privateKey = privateKey
    this.publicKey = new Uint8Array(diffieHellman({ privateKey: key, publicKey: BASE_POINT }))
  }

  /** A fresh key pair from OpenSSL's CSPRNG. */
  static generate(): X25519KeyPair {
    return new X25519KeyPair(generateKeyPairSync('x25519').privateKey)
  }

  /** The key pair of a 32-byte private scalar (clamped by X25519 itself, RFC 7748 §5). */
  static fromPrivateKey(privateKey: Uint8Array): X25519KeyPair {
    assertLength('X25519 private key', privateKey, 32)
    const der = Buffer.concat([PKCS8_PREFIX, privateKey])
    return new X25519KeyPair(
      createPrivateKey({ key: der, format: 'der', type: 'pkcs8' }),
      Uint8Array.from(privateKey),
    )
  }

  /** The raw 32-byte private scalar (exported on first use). */
  get privateKey(): Uint8Array {
    this.#privateKey ??= lastBytes(this.#key.export({ format: 'der', type: 'pkcs8' }))
    return this.#privateKey
  }

  /**
   * X25519(private, peerPublicKey) (RFC 7748 §6.1). Throws {@link CryptoError} `CRYPTO_INVALID_KEY`
   * when the peer key is malformed or of small order (all-zero shared secret, RFC 7748 §6.1).
   */
  dh(peerPublicKey: Uint8Array): Uint8Array {
    assertLength('X25519 public key', peerPublicKey, 32)
    try {
      const publicKey = publicKeyObject(peerPublicKey)
      return new Uint8Array(diffieHellman({ privateKey: this.#key, publicKey }))
    } catch (cause) {
      throw CryptoError.invalidPublicKey('X25519', cause)
    }
  }
}

/** The raw key at the end of a PKCS#8 encoding of an X25519 key (RFC 8410 §7). */
function lastBytes(der: Buffer): Uint8Array {
  return new Uint8Array(der.subarray(der.length - 32))
}
