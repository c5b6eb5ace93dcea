import { type Ed25519KeyPair, hmacSha256, utf8, X25519KeyPair } from '../crypto/index.js'
import { STATIC_KEY_DOMAIN } from './constants.js'

const cache = new WeakMap<Ed25519KeyPair, X25519KeyPair>()

/**
 * The device's long-term Noise static key, derived from its identity seed (`spec/noise.md` §2.5):
 * X25519 private key = HMAC-SHA256(key = Ed25519 seed, "pairctl/noise-static-key/v1"). Deterministic, so
 * nothing new is stored; peers learn the public half in the XX pairing handshake and keep it for IK.
 */
export function deriveStaticKey(identity: Ed25519KeyPair): X25519KeyPair {
  let key = cache.get(identity)
  if (key === undefined) {
    key = X25519KeyPair.fromPrivateKey(hmacSha256(identity.seed, utf8(STATIC_KEY_DOMAIN)))
    cache.set(identity, key)
  }
  return key
}
