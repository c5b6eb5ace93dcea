import { openChannel } from '../channel/index.js'
import { utf8 } from '../crypto/index.js'
import { CONNECT_TIMEOUT_MS, PAIRING_PROLOGUE, SAS_TIMEOUT_MS } from './constants.js'
import type { ChannelOpener } from './types.js'

/**
 * The default {@link ChannelOpener}: `lib/channel` Noise XX with the pairing prologue, so a pairing
 * connection can never be confused with another protocol's (`spec/pairing.md` §4).
 */
export const openPairingChannel: ChannelOpener = (duplex, { role, identity, signal }) =>
  openChannel(duplex, {
    role,
    identity: identity.keyPair,
    pattern: 'XX',
    prologue: utf8(PAIRING_PROLOGUE),
    handshakeTimeoutMs: CONNECT_TIMEOUT_MS,
    // The user may take the whole SAS window to answer; keepalives keep the channel alive meanwhile.
    idleTimeoutMs: SAS_TIMEOUT_MS,
    ...(identity.noiseKeyPair ? { staticKey: identity.noiseKeyPair } : {}),
    ...(signal ? { signal } : {}),
  })
