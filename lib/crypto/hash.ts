import { createHash, createHmac } from 'node:crypto'

/** SHA-256 (FIPS 180-4) of the concatenation of `parts`. */
export function sha256(...parts: Uint8Array[]): Uint8Array {
  const hash = createHash('sha256')
  for (const part of parts) hash.update(part)
  return new Uint8Array(hash.digest())
}

/** SHA-512 (FIPS 180-4) of the concatenation of `parts`. */
export function sha512(...parts: Uint8Array[]): Uint8Array {
  const hash = createHash('sha512')
  for (const part of parts) hash.update(part)
  return new Uint8Array(hash.digest())
}

/** HMAC-SHA256 (RFC 2104) of the concatenation of `parts` under `key`. */
export function hmacSha256(key: Uint8Array, ...parts: Uint8Array[]): Uint8Array {
  const mac = createHmac('sha256', key)
  for (const part of parts) mac.update(part)
  return new Uint8Array(mac.digest())
}

/**
 * HKDF as the Noise spec defines it (revision 34 §4.3): HMAC-SHA256 with
 * `temp_key = HMAC(chaining_key, ikm)`, `output1 = HMAC(temp_key, 0x01)`,
 * `output2 = HMAC(temp_key, output1 || 0x02)`, `output3 = HMAC(temp_key, output2 || 0x03)`.
 * This equals RFC 5869 HKDF with salt = chaining key and empty info, truncated to 2 or 3 blocks.
 */
export function noiseHkdf(chainingKey: Uint8Array, ikm: Uint8Array, outputs: 2): [Uint8Array, Uint8Array]
export function noiseHkdf(
  chainingKey: Uint8Array,
  ikm: Uint8Array,
  outputs: 3,
): [Uint8Array, Uint8Array, Uint8Array]
export function noiseHkdf(chainingKey: Uint8Array, ikm: Uint8Array, outputs: 2 | 3): Uint8Array[] {
  const tempKey = hmacSha256(chainingKey, ikm)
  const output1 = hmacSha256(tempKey, Uint8Array.of(1))
  const output2 = hmacSha256(tempKey, output1, Uint8Array.of(2))
  if (outputs === 2) return [output1, output2]
  return [output1, output2, hmacSha256(tempKey, output2, Uint8Array.of(3))]
}
