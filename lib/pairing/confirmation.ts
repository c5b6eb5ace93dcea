import { concatBytes, type Ed25519KeyPair, ed25519Verify, hmacSha256, utf8 } from '../crypto/index.js'
import {
  CONFIRM_LABEL_ADVERTISER,
  CONFIRM_LABEL_JOINER,
  CPACE_CI_LABEL,
  IDENTITY_BINDING_LABEL,
  IDENTITY_SIGNATURE_DOMAIN,
  PRESENCE_SECRET_LABEL,
  SAS_DIGITS,
  SAS_LABEL,
} from './constants.js'
import { lvCat } from './cpace.js'

/**
 * What pairing derives from the CPace ISK (`spec/pairing.md` §6): the channel identifier CI that binds
 * the advertisement key, the two key-confirmation tags and the short authentication string.
 * @module
 */

/** Which side of a pairing: the one that generated the code, or the one that typed it. */
export type PairingRole = 'advertiser' | 'joiner'

/** CPace CI = lv_cat("pairctl/pairing/v2", advertisement public key) (`spec/pairing.md` §6.1). */
export function cpaceChannelId(advertKey: Uint8Array): Uint8Array {
  return lvCat(utf8(CPACE_CI_LABEL), advertKey)
}

/** The key-confirmation tag `role` sends: HMAC-SHA256(ISK, label of the role) (`spec/pairing.md` §6.2). */
export function confirmationTag(isk: Uint8Array, role: PairingRole): Uint8Array {
  return hmacSha256(isk, utf8(role === 'joiner' ? CONFIRM_LABEL_JOINER : CONFIRM_LABEL_ADVERTISER))
}

/**
 * The 6-digit SAS (`spec/pairing.md` §6.3): the first 8 bytes of HMAC-SHA256(ISK, "pairctl/pairing/v2/sas")
 * as a big-endian integer modulo 10^6 (bias below 2^-44), zero-padded.
 */
export function shortAuthString(isk: Uint8Array): string {
  const mac = hmacSha256(isk, utf8(SAS_LABEL))
  const value = new DataView(mac.buffer, mac.byteOffset, 8).getBigUint64(0)
  return (value % 10n ** BigInt(SAS_DIGITS)).toString().padStart(SAS_DIGITS, '0')
}

/**
 * The pair's presence secret (`spec/pairing.md` §6.4): HMAC-SHA256(ISK, "pairctl/pairing/v2/presence-secret").
 * Both devices hold it after key confirmation and nobody else can compute it; presence keys derive from it.
 */
export function presenceSecret(isk: Uint8Array): Uint8Array {
  return hmacSha256(isk, utf8(PRESENCE_SECRET_LABEL))
}

/**
 * The bytes `role`'s identity key signs in its `accept` (`spec/pairing.md` §6.5):
 * "pairctl/pairing/v2/identity/<role>" || h || HMAC-SHA256(ISK, "pairctl/pairing/v2/identity-binding").
 * The handshake hash ties the signature to this Noise session (and its per-session keys), the ISK value
 * to this CPace run; the role label keeps the peer from reflecting it back.
 */
export function identitySignedBytes(
  role: PairingRole,
  handshakeHash: Uint8Array,
  isk: Uint8Array,
): Uint8Array {
  return concatBytes(
    utf8(IDENTITY_SIGNATURE_DOMAIN[role]),
    handshakeHash,
    hmacSha256(isk, utf8(IDENTITY_BINDING_LABEL)),
  )
}

/** This side's identity signature for its `accept`. */
export function signIdentity(
  identity: Ed25519KeyPair,
  role: PairingRole,
  handshakeHash: Uint8Array,
  isk: Uint8Array,
): Uint8Array {
  return identity.sign(identitySignedBytes(role, handshakeHash, isk))
}

/** True when `sig` proves that the holder of `identityKey` took part as `role` in this very session. */
export function verifyIdentity(
  identityKey: Uint8Array,
  sig: Uint8Array,
  role: PairingRole,
  handshakeHash: Uint8Array,
  isk: Uint8Array,
): boolean {
  return ed25519Verify(identityKey, identitySignedBytes(role, handshakeHash, isk), sig)
}
