import { X25519KeyPair } from '../crypto/index.js'

/** What a HandshakeState needs of a key pair: its public key and X25519 with a peer key (Noise §4.1 DH). */
export interface DhKeyPair {
  readonly publicKey: Uint8Array
  dh(peerPublicKey: Uint8Array): Uint8Array
}

/**
 * A fresh X25519 key pair for one handshake (Noise §4.1 GENERATE_KEYPAIR), generated inside OpenSSL; its
 * private half is never exported.
 */
export function generateEphemeral(): DhKeyPair {
  return X25519KeyPair.generate()
}
