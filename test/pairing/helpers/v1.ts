import { encodeCbor } from '../../../lib/cbor.js'
import { concatBytes, type Ed25519KeyPair, utf8 } from '../../../lib/crypto/index.js'
import type { AdvertAddress } from '../../../lib/pairing/index.js'

/**
 * A v1 advertisement, byte for byte as v1 (`lib/pairing/advert.ts` before protocol v2) wrote it:
 * CBOR {v: 1, key, addrs, exp, sig}, sig over "pairctl/advert/v1" || rendezvous key || CBOR(body).
 * With `extra`, a key v1 never wrote is added to the signed body (to test that unknown keys are refused).
 */
export function v1Advert(
  rendezvousKey: Uint8Array,
  keyPair: Ed25519KeyPair,
  addrs: readonly AdvertAddress[],
  expiresAt: number,
  options: { v?: number; extra?: Record<string, unknown> } = {},
): Uint8Array {
  const body = { v: options.v ?? 1, key: keyPair.publicKey, addrs, exp: BigInt(expiresAt), ...options.extra }
  const sig = keyPair.sign(concatBytes(utf8('pairctl/advert/v1'), rendezvousKey, encodeCbor(body)))
  return encodeCbor({ ...body, sig })
}
