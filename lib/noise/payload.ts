import { z } from 'zod'
import { decodeCbor, encodeCbor } from '../cbor.js'
import { concatBytes, type Ed25519KeyPair, ed25519Verify, toHex, utf8 } from '../crypto/index.js'
import { deviceIdFromPublicKey } from '../identity/device-id.js'
import { MAX_APPLICATION_PAYLOAD, STATIC_SIGNATURE_DOMAIN } from './constants.js'
import { NoiseError } from './errors.js'

/**
 * Verified (identity, static key, signature) triples remembered with the identity's device ID, so reconnecting
 * peers skip Ed25519 verify and the device ID encoding.
 */
const VERIFIED_CACHE_SIZE = 1024
const verified = new Map<string, string>()
/**
 * This device's binding per identity: its signature over the static key and the payload without application
 * bytes. Ed25519 is deterministic and the static key long-term, so both are made once.
 */
const ownBindings = new WeakMap<Ed25519KeyPair, { staticKey: string; sig: Uint8Array; payload: Uint8Array }>()

const bytes = (min: number, max: number) =>
  z
    .instanceof(Uint8Array)
    .refine((value) => value.length >= min && value.length <= max, 'bad byte string length')

/** The handshake payload map (`spec/noise.md` §2.3): `{identity, sig, app?}`; unknown keys are ignored. */
export const handshakePayloadSchema = z.object({
  identity: bytes(32, 32),
  sig: bytes(64, 64),
  app: bytes(0, MAX_APPLICATION_PAYLOAD).optional(),
})

/** What a verified identity payload yields. */
export interface VerifiedIdentity {
  identityKey: Uint8Array
  /** {@link deviceIdFromPublicKey} of `identityKey`. */
  deviceId: string
  application: Uint8Array | undefined
}

/** The bytes the identity key signs (`spec/noise.md` §2.4): `"pairctl/noise-static/v1" || noiseStaticPublicKey`. */
export function staticSignatureMessage(staticPublicKey: Uint8Array): Uint8Array {
  return concatBytes(utf8(STATIC_SIGNATURE_DOMAIN), staticPublicKey)
}

/** Encodes this device's identity payload binding `staticPublicKey` to `identity` (`spec/noise.md` §2.3-2.4). */
export function encodeHandshakePayload(
  identity: Ed25519KeyPair,
  staticPublicKey: Uint8Array,
  application?: Uint8Array,
): Uint8Array {
  if (application !== undefined && application.length > MAX_APPLICATION_PAYLOAD)
    throw NoiseError.tooLarge('application payload', application.length, MAX_APPLICATION_PAYLOAD)
  const binding = ownBinding(identity, staticPublicKey)
  if (application === undefined) return binding.payload
  return encodeCbor({ identity: identity.publicKey, sig: binding.sig, app: application })
}

function ownBinding(identity: Ed25519KeyPair, staticPublicKey: Uint8Array) {
  const staticKey = toHex(staticPublicKey)
  let binding = ownBindings.get(identity)
  if (binding?.staticKey !== staticKey) {
    const sig = identity.sign(staticSignatureMessage(staticPublicKey))
    binding = { staticKey, sig, payload: encodeCbor({ identity: identity.publicKey, sig }) }
    ownBindings.set(identity, binding)
  }
  return binding
}

/**
 * Decodes the peer's identity payload and checks its signature over the peer's Noise static key `rs`.
 * Throws `NOISE_BAD_PAYLOAD` for malformed CBOR and `NOISE_BAD_IDENTITY` for a signature that does not verify.
 */
export function verifyHandshakePayload(payload: Uint8Array, remoteStaticKey: Uint8Array): VerifiedIdentity {
  let decoded: z.output<typeof handshakePayloadSchema>
  try {
    decoded = decodeCbor(handshakePayloadSchema, payload)
  } catch (cause) {
    throw NoiseError.badPayload('not a pairctl identity payload', cause)
  }
  const deviceId = verifyCached(decoded.identity, remoteStaticKey, decoded.sig)
  if (deviceId === undefined)
    throw NoiseError.badIdentity('the identity signature does not cover the Noise static key')
  return { identityKey: decoded.identity, deviceId, application: decoded.app }
}

/** ed25519Verify, remembering successes only (the same bytes verify the same way every time): the device ID. */
function verifyCached(
  identityKey: Uint8Array,
  staticPublicKey: Uint8Array,
  sig: Uint8Array,
): string | undefined {
  const id = toHex(identityKey) + toHex(staticPublicKey) + toHex(sig)
  const known = verified.get(id)
  if (known !== undefined) return known
  if (!ed25519Verify(identityKey, staticSignatureMessage(staticPublicKey), sig)) return undefined
  if (verified.size >= VERIFIED_CACHE_SIZE) verified.delete(verified.keys().next().value as string)
  const deviceId = deviceIdFromPublicKey(identityKey)
  verified.set(id, deviceId)
  return deviceId
}
