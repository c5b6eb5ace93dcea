import { createPublicKey, diffieHellman, generateKeyPairSync, type KeyObject } from 'node:crypto'
import { asBuffer, CryptoError } from '../crypto/index.js'

/** What a HandshakeState needs of a key pair: its public key and X25519 with a peer key (Noise §4.1 DH). */
export interface DhKeyPair {
  readonly publicKey: Uint8Array
  dh(peerPublicKey: Uint8Array): Uint8Array
}

/**
 * A fresh X25519 key pair for one handshake (Noise §4.1 GENERATE_KEYPAIR). Generated inside OpenSSL and read
 * out through the raw (JWK) path: importing a random scalar as PKCS#8 DER, as `X25519KeyPair` does, costs
 * ~0.6 ms in OpenSSL 3's decoder, which dominated a handshake; this costs ~0.06 ms.
 */
export function generateEphemeral(): DhKeyPair {
  const { privateKey, publicKey } = generateKeyPairSync('x25519')
  const raw = Buffer.from(publicKey.export({ format: 'jwk' }).x!, 'base64url')
  return { publicKey: new Uint8Array(raw), dh: (peer) => x25519(privateKey, peer) }
}

/** X25519 (RFC 7748 §6.1); throws CRYPTO_INVALID_KEY for malformed or small-order peer keys. */
function x25519(privateKey: KeyObject, peerPublicKey: Uint8Array): Uint8Array {
  if (peerPublicKey.length !== 32) throw CryptoError.invalidPublicKey('X25519')
  try {
    const x = asBuffer(peerPublicKey).toString('base64url')
    const publicKey = createPublicKey({ key: { kty: 'OKP', crv: 'X25519', x }, format: 'jwk' })
    return new Uint8Array(diffieHellman({ privateKey, publicKey }))
  } catch (cause) {
    throw CryptoError.invalidPublicKey('X25519', cause)
  }
}
