import { hmacSha256, randomBytes, utf8 } from '../crypto/index.js'
import { RECONNECT_TOKEN_LABEL, TOKEN_BYTES } from './constants.js'
import { RelayError } from './errors.js'

/**
 * Relay tokens (`spec/relay.md` §4): what a listener reserves and a dialer presents. The relay only
 * matches them; it cannot tell what they derive from.
 * @module
 */

const RECONNECT_LABEL = utf8(RECONNECT_TOKEN_LABEL)

/**
 * The token a device listens under for reconnects from one paired device (`spec/relay.md` §4.2):
 * HMAC-SHA256(presenceSecret, "pairctl/relay/v1/reconnect-token" || listener's identity key). Both
 * devices of the pair compute it (they share the secret); the listener's key makes the two directions
 * different tokens, so two devices both behind relays never collide on one.
 */
export function reconnectToken(presenceSecret: Uint8Array, listenerIdentityKey: Uint8Array): Uint8Array {
  if (presenceSecret.length !== 32) throw RelayError.badArgument('presence secret must be 32 bytes')
  return hmacSha256(presenceSecret, RECONNECT_LABEL, listenerIdentityKey)
}

/** A fresh pairing token (`spec/relay.md` §4.1): 32 random bytes, carried in the advert's relay address. */
export function pairingToken(random: (length: number) => Uint8Array = randomBytes): Uint8Array {
  return random(TOKEN_BYTES)
}

/** A token as the address schema carries it: unpadded base64url (43 characters). */
export function encodeToken(token: Uint8Array): string {
  return Buffer.from(token).toString('base64url')
}

/** The inverse of {@link encodeToken}; throws `RELAY_BAD_ARGUMENT` for anything but 32 bytes. */
export function decodeToken(text: string): Uint8Array {
  const bytes = new Uint8Array(Buffer.from(text, 'base64url'))
  if (bytes.length !== TOKEN_BYTES || encodeToken(bytes) !== text)
    throw RelayError.badArgument('bad relay token')
  return bytes
}
