/**
 * Wire constants of pairctl's Noise handshakes (`spec/noise.md` §2, Noise revision 34).
 * @module
 */

/** The cipher suite pairctl runs: X25519, ChaCha20-Poly1305, SHA-256 (Noise §12.1, §12.3, §12.5). */
export const SUITE = '25519_ChaChaPoly_SHA256'
/** DHLEN of X25519 (Noise §12.1). */
export const DHLEN = 32
/** HASHLEN of SHA-256 (Noise §12.5). */
export const HASHLEN = 32
/** Length of a CipherState key (Noise §5.1). */
export const KEYLEN = 32
/** Length of a ChaCha20-Poly1305 authentication tag (Noise §5.1, RFC 8439 §2.8). */
export const TAGLEN = 16
/** The largest Noise message (Noise §3). */
export const MAX_MESSAGE_LENGTH = 65535
/**
 * The first nonce value a CipherState refuses (`spec/noise.md` §6): nonces are JS numbers, exact up to
 * 2^53 − 1 (Noise itself reserves 2^64 − 1), so n ≤ 2^53 − 2 is usable.
 */
export { MAX_NONCE } from '../crypto/index.js'
/** The prologue starts with this label, then 0x00, then the caller's purpose bytes (`spec/noise.md` §2.2). */
export const PROLOGUE_LABEL = 'pairctl/noise/v1'
/** Domain of the identity signature over the Noise static public key (`spec/noise.md` §2.4). */
export const STATIC_SIGNATURE_DOMAIN = 'pairctl/noise-static/v1'
/** Domain of the derivation of the long-term Noise static key from the identity seed (`spec/noise.md` §2.5). */
export const STATIC_KEY_DOMAIN = 'pairctl/noise-static-key/v1'
/** The largest application payload carried inside a handshake payload (`spec/noise.md` §2.3). */
export const MAX_APPLICATION_PAYLOAD = 4096
