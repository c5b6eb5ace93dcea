import { createPublicKey, diffieHellman, generateKeyPairSync, type KeyObject } from 'node:crypto'
import { asBuffer, assertLength } from '../crypto/index.js'
import { DHLEN } from './constants.js'

/** What a HandshakeState needs of a key pair: its public key and X25519 with a peer key (Noise §4.1 DH). */
export interface DhKeyPair {
  readonly publicKey: Uint8Array
  dh(peerPublicKey: Uint8Array): Uint8Array
}

/** An X25519 public key as OpenSSL takes it without a DER decoder (RFC 8037 §2 OKP JWK). */
function publicKeyObject(publicKey: Uint8Array): KeyObject {
  return createPublicKey({
    key: { kty: 'OKP', crv: 'X25519', x: asBuffer(publicKey).toString('base64url') },
    format: 'jwk',
  })
}

/** The X25519 base point u = 9 (RFC 7748 §4.1). */
const BASE_POINT = publicKeyObject(Uint8Array.of(9, ...new Uint8Array(DHLEN - 1)))

/**
 * A one-handshake X25519 key pair (Noise §4.1 GENERATE_KEYPAIR) generated inside OpenSSL. Its public key is
 * X25519(k, 9) (RFC 7748 §6.1): one scalar multiplication costs less than half of reading the key out through
 * OpenSSL's DER encoder, and ephemeral keys never need their private half exported.
 */
class EphemeralKeyPair implements DhKeyPair {
  readonly publicKey: Uint8Array
  readonly #privateKey = generateKeyPairSync('x25519').privateKey

  constructor() {
    this.publicKey = this.#x25519(BASE_POINT)
  }

  /** X25519(k, peer) (RFC 7748 §6.1); OpenSSL rejects malformed and small-order peer keys (all-zero output). */
  dh(peerPublicKey: Uint8Array): Uint8Array {
    assertLength('X25519 public key', peerPublicKey, DHLEN)
    return this.#x25519(publicKeyObject(peerPublicKey))
  }

  #x25519(publicKey: KeyObject): Uint8Array {
    return new Uint8Array(diffieHellman({ privateKey: this.#privateKey, publicKey }))
  }
}

/** A fresh X25519 key pair for one handshake (Noise §4.1 GENERATE_KEYPAIR). */
export function generateEphemeral(): DhKeyPair {
  return new EphemeralKeyPair()
}
