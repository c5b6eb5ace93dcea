import { hmacSha256, utf8 } from '../crypto/index.js'
import {
  CONFIRM_LABEL_ADVERTISER,
  CONFIRM_LABEL_JOINER,
  CPACE_CI_LABEL,
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

/** CPace CI = lv_cat("pairctl/pairing/v1", advertisement public key) (`spec/pairing.md` §6.1). */
export function cpaceChannelId(advertKey: Uint8Array): Uint8Array {
  return lvCat(utf8(CPACE_CI_LABEL), advertKey)
}

/** The key-confirmation tag `role` sends: HMAC-SHA256(ISK, label of the role) (`spec/pairing.md` §6.2). */
export function confirmationTag(isk: Uint8Array, role: PairingRole): Uint8Array {
  return hmacSha256(isk, utf8(role === 'joiner' ? CONFIRM_LABEL_JOINER : CONFIRM_LABEL_ADVERTISER))
}

/**
 * The 6-digit SAS (`spec/pairing.md` §6.3): the first 8 bytes of HMAC-SHA256(ISK, "pairctl/pairing/v1/sas")
 * as a big-endian integer modulo 10^6 (bias below 2^-44), zero-padded.
 */
export function shortAuthString(isk: Uint8Array): string {
  const mac = hmacSha256(isk, utf8(SAS_LABEL))
  const value = new DataView(mac.buffer, mac.byteOffset, 8).getBigUint64(0)
  return (value % 10n ** BigInt(SAS_DIGITS)).toString().padStart(SAS_DIGITS, '0')
}

/**
 * The pair's presence secret (`spec/pairing.md` §6.4): HMAC-SHA256(ISK, "pairctl/pairing/v1/presence-secret").
 * Both devices hold it after key confirmation and nobody else can compute it; presence keys derive from it.
 */
export function presenceSecret(isk: Uint8Array): Uint8Array {
  return hmacSha256(isk, utf8(PRESENCE_SECRET_LABEL))
}
