import { type Ed25519KeyPair, hmacSha256, utf8, X25519KeyPair } from '../crypto/index.js'
import { STATIC_KEY_DOMAIN } from './constants.js'

const cache = new WeakMap<Ed25519KeyPair, X25519KeyPair>()

/**
 * The device's long-term Noise static key, derived from its identity seed (`spec/noise.md` §2.5):
 * X25519 private key = HMAC-SHA256(key = Ed25519 seed, "pairctl/noise-static-key/v1"). Deterministic, so
 * nothing new is stored; paired peers learn the public half from the presence record and use it for IK.
 * Pairing never sends it: its handshake uses a per-connection key (`spec/noise.md` §2.7).
 */
export function deriveStaticKey(identity: Ed25519KeyPair): X25519KeyPair {
  let key = cache.get(identity)
  if (key === undefined) {
    key = X25519KeyPair.fromPrivateKey(hmacSha256(identity.seed, utf8(STATIC_KEY_DOMAIN)))
    cache.set(identity, key)
  }
  return key
}
