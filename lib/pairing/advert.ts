import { z } from 'zod'
import { decodeCbor, encodeCbor } from '../cbor.js'
import { concatBytes, type Ed25519KeyPair, ed25519Verify, equalBytes, utf8 } from '../crypto/index.js'
import {
  ADVERT_DOMAIN,
  CLOCK_SKEW_MS,
  MAX_ADDRESSES,
  MAX_ADVERT_BYTES,
  MAX_TTL_MS,
  PREVIOUS_VERSION,
  PROTOCOL_VERSION,
} from './constants.js'
import { PairingError } from './errors.js'

/**
 * Pairing advertisements (`spec/pairing.md` §3): what the advertiser publishes in the DHT under the
 * rendezvous key, signed by an ephemeral Ed25519 key that exists for this one pairing (never the
 * identity key: an advertisement must not link to the device).
 * @module
 */

/** A TCP address to dial (`spec/pairing.md` §3). */
export interface AdvertAddress {
  host: string
  port: number
  transport: 'tcp'
}

/** A verified advertisement. */
export interface Advert {
  /** Protocol version of the advertiser: {@link PROTOCOL_VERSION}, or {@link PREVIOUS_VERSION} (outdated). */
  version: number
  /** The ephemeral advertisement key; also names the pairing session in `hello` and CPace CI. */
  key: Uint8Array
  addresses: AdvertAddress[]
  /** Milliseconds since the Unix epoch. */
  expiresAt: number
}

/** The wire schema of one {@link AdvertAddress}; adverts, presence records and the store share it. */
export const AdvertAddressSchema = z.object({
  host: z.string().min(1).max(253),
  port: z.number().int().min(1).max(65535),
  transport: z.literal('tcp'),
})
const Body = z.strictObject({
  v: z.union([z.literal(PROTOCOL_VERSION), z.literal(PREVIOUS_VERSION)]),
  key: z.custom<Uint8Array>((key) => key instanceof Uint8Array && key.length === 32),
  addrs: z.array(AdvertAddressSchema).min(1).max(MAX_ADDRESSES),
  exp: z
    .union([z.number().int(), z.bigint()])
    .transform(Number)
    .pipe(z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER)),
})
/** The signed fields of an advertisement. */
interface AdvertBody {
  v: number
  key: Uint8Array
  addrs: AdvertAddress[]
  exp: number
}
const Signed = Body.extend({
  sig: z.custom<Uint8Array>((sig) => sig instanceof Uint8Array && sig.length === 64),
})

/**
 * The bytes the advertisement key signs: "pairctl/advert/v1" || rendezvous key || CBOR(body), binding
 * the advertisement to its rendezvous key so it cannot be replayed under another.
 */
function signedBytes(rendezvousKey: Uint8Array, body: AdvertBody): Uint8Array {
  return concatBytes(utf8(ADVERT_DOMAIN), rendezvousKey, encodeBody(body))
}

/**
 * CBOR of the signed fields. `exp` goes out as a BigInt so it is encoded as the shortest CBOR unsigned
 * integer (a millisecond timestamp needs the 8-byte form): lib/cbor would write a Number above 2^32
 * as a float64, which the CBOR subset forbids.
 */
function encodeBody(body: AdvertBody, sig?: Uint8Array): Uint8Array {
  return encodeCbor({ ...body, exp: BigInt(body.exp), ...(sig === undefined ? {} : { sig }) })
}

/**
 * Encodes and signs an advertisement. Addresses are kept in the caller's order of preference; those
 * that would push the encoding past the DHT's value limit are dropped from the end.
 */
export function encodeAdvert(
  rendezvousKey: Uint8Array,
  keyPair: Ed25519KeyPair,
  addresses: readonly AdvertAddress[],
  expiresAt: number,
): Uint8Array {
  if (addresses.length === 0) throw PairingError.badOption('an advertisement needs at least one address')
  for (let count = Math.min(addresses.length, MAX_ADDRESSES); count > 0; count--) {
    const body = {
      v: PROTOCOL_VERSION,
      key: keyPair.publicKey,
      addrs: addresses.slice(0, count),
      exp: expiresAt,
    }
    const encoded = encodeBody(body, keyPair.sign(signedBytes(rendezvousKey, body)))
    if (encoded.length <= MAX_ADVERT_BYTES) return encoded
  }
  throw PairingError.badOption('the first address alone does not fit in an advertisement')
}

/**
 * Decodes and verifies an advertisement found under `rendezvousKey`: schema (exactly the five keys; a
 * v1 advert is accepted and reported with `version` 1), signature by the key it names over the
 * re-encoded body, that key equal to the DHT record's publisher (`publisher`), and expiry against `now`
 * (`spec/pairing.md` §3.2). Returns null for anything else: a bad record is skipped, not fatal.
 */
export function decodeAdvert(
  rendezvousKey: Uint8Array,
  bytes: Uint8Array,
  publisher: Uint8Array,
  now: number,
): Advert | null {
  let signed: z.output<typeof Signed>
  try {
    signed = decodeCbor(Signed, bytes)
  } catch {
    return null
  }
  const { sig, ...body } = signed
  if (!equalBytes(body.key, publisher)) return null
  if (!ed25519Verify(body.key, signedBytes(rendezvousKey, body), sig)) return null
  if (body.exp <= now || body.exp > now + MAX_TTL_MS + CLOCK_SKEW_MS) return null
  return { version: body.v, key: body.key, addresses: body.addrs, expiresAt: body.exp }
}
