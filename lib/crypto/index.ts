/**
 * The primitives pairctl needs, behind one small interface, backed by node:crypto (12-38× faster than
 * the pure-JS @noble equivalents on this machine; @noble cross-checks them in the tests).
 * @module
 */
export { type AeadNonce, chachaOpen, chachaSeal, MAX_NONCE, noiseNonce, TAG_LENGTH } from './aead.js'
export { asBuffer, concatBytes, equalBytes, fromHex, toHex, utf8 } from './bytes.js'
export { Ed25519KeyPair, ed25519Verify, generateSeed } from './ed25519.js'
export { assertLength, CryptoError } from './errors.js'
export { hmacSha256, noiseHkdf, sha256, sha512 } from './hash.js'
export { randomBytes } from './random.js'
export { X25519KeyPair } from './x25519.js'
