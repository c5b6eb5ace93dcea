import { openChannel, type SecureChannel } from '../../../lib/channel/index.js'
import { Identity } from '../../../lib/identity/index.js'
import { dialRelay, type RelayAddress, Reservation } from '../../../lib/relay/index.js'

type Teardown = { teardown(fn: () => unknown): void }

/** A Noise XX channel pair spliced through the relay at `relay`: [dialer's, listener's]; closed at teardown. */
export async function channelsThrough(
  t: Teardown,
  relay: RelayAddress,
): Promise<[SecureChannel, SecureChannel]> {
  const token = crypto.getRandomValues(new Uint8Array(32))
  const reservation = new Reservation(relay, [token]).start()
  t.teardown(() => reservation.close())
  await new Promise<void>((resolve) => reservation.once('reserved', () => resolve()))
  const options = (identity: Identity) => ({
    identity: identity.keyPair,
    staticKey: identity.noiseKeyPair,
    handshakeTimeoutMs: 10_000,
  })
  const accepted = new Promise<SecureChannel>((resolve, reject) =>
    reservation.once('circuit', ({ stream }) =>
      openChannel(stream, { role: 'responder', ...options(Identity.generate()) }).then(resolve, reject),
    ),
  )
  const stream = await dialRelay(relay, token)
  const dialer = await openChannel(stream, { role: 'initiator', ...options(Identity.generate()) })
  const listener = await accepted
  t.teardown(() => {
    dialer.destroy()
    listener.destroy()
  })
  return [dialer, listener]
}

/** Reads `channel`'s messages until it ends or fails: what was delivered, and the error (if any). */
export async function drain(channel: SecureChannel): Promise<{ delivered: string[]; error: unknown }> {
  const delivered: string[] = []
  try {
    for await (const message of channel.messages()) delivered.push(Buffer.from(message).toString())
    return { delivered, error: undefined }
  } catch (error) {
    return { delivered, error }
  }
}
