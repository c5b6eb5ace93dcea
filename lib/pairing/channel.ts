import { openChannel } from '../channel/index.js'
import { utf8, X25519KeyPair } from '../crypto/index.js'
import { HANDSHAKE_TIMEOUT_MS, PAIRING_PROLOGUE, SAS_TIMEOUT_MS } from './constants.js'
import type { ChannelOpener } from './types.js'

/**
 * The default {@link ChannelOpener} (`spec/pairing.md` §4): an anonymous `lib/channel` Noise XX with a
 * static key generated for this one connection and no identity payload, so whoever connects learns no
 * long-term key of this device; the versioned pairing prologue keeps the channel from doubling as
 * another protocol's.
 */
export const openPairingChannel: ChannelOpener = async (duplex, { role, signal }) => {
  const sessionKey = X25519KeyPair.generate()
  const channel = await openChannel(duplex, {
    role,
    pattern: 'XX',
    staticKey: sessionKey,
    prologue: utf8(PAIRING_PROLOGUE),
    handshakeTimeoutMs: HANDSHAKE_TIMEOUT_MS,
    // The user may take the whole SAS window to answer; keepalives keep the channel alive meanwhile.
    idleTimeoutMs: SAS_TIMEOUT_MS,
    ...(signal ? { signal } : {}),
  })
  return {
    handshakeHash: channel.handshakeHash,
    localStaticKey: sessionKey.publicKey,
    remoteStaticKey: channel.remoteStaticKey,
    send: (message) => channel.send(message),
    messages: () => channel.messages(),
    close: () => channel.close(),
    destroy: (err) => channel.destroy(err),
  }
}
