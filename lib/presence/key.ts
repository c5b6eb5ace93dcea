import { sha256, utf8 } from '../crypto/index.js'
import { PRESENCE_KEY_DOMAIN } from './constants.js'

const DOMAIN = utf8(PRESENCE_KEY_DOMAIN)

/**
 * The DHT key of a device's presence record (`spec/presence.md` §1): SHA-256("pairctl/presence/v1" ||
 * identity public key). Anyone who knows the identity key can find the record, nobody else.
 */
export function presenceKey(identityKey: Uint8Array): Uint8Array {
  return sha256(DOMAIN, identityKey)
}
