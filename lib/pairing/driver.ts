import { PairingError } from './errors.js'
import type { HandshakeEvent, PairingHandshake, PeerInfo } from './handshake.js'
import type { PairingChannel } from './types.js'

/** Options of {@link driveHandshake}. */
export interface DriveOptions {
  /** Called with each handshake event as it happens (before the promise settles). */
  onEvent(event: HandshakeEvent): void
  confirm?: ((sas: string) => Promise<boolean>) | undefined
  signal?: AbortSignal | undefined
  /** A message already read from the channel (the dispatcher reads `hello` to route the connection). */
  first?: Uint8Array
  /** The channel's message iterator when someone already started reading it. */
  messages?: AsyncIterator<Uint8Array>
}

/**
 * Runs one {@link PairingHandshake} over a secure channel: the I/O adapter of the in-channel protocol
 * (`spec/pairing.md` §8). Resolves with the peer, or rejects with the PairingError the handshake
 * failed with; either way the channel is closed (gracefully, so a final `error` message is delivered)
 * and no timer or listener is left behind.
 */
export function driveHandshake(
  channel: PairingChannel,
  handshake: PairingHandshake,
  options: DriveOptions,
): Promise<PeerInfo> {
  return new Promise((resolve, reject) => {
    let timer: NodeJS.Timeout | undefined
    let settled = false
    const finish = (outcome: () => void) => {
      settled = true
      clearTimeout(timer)
      options.signal?.removeEventListener('abort', onAbort)
      channel.close()
      outcome()
    }
    const step = () => {
      if (settled) return
      flush()
      for (let event = handshake.nextEvent(); event !== undefined; event = handshake.nextEvent())
        dispatch(event)
      if (!settled) arm()
    }
    const flush = () => {
      for (let bytes = handshake.pollTransmit(); bytes !== undefined; bytes = handshake.pollTransmit())
        // A failed send means the connection broke: the reader sees that too, after any final
        // `error` message the peer managed to send, which explains the failure better.
        channel.send(bytes).catch(() => {})
    }
    const dispatch = (event: HandshakeEvent) => {
      options.onEvent(event)
      if (event.type === 'sas' && options.confirm !== undefined) askUser(event.sas)
      else if (event.type === 'paired') finish(() => resolve(event.peer))
      else if (event.type === 'failed') finish(() => reject(event.error))
    }
    const askUser = (sas: string) => {
      options.confirm!(sas).then(
        (accepted) => decide(accepted),
        () => decide(false),
      )
    }
    const decide = (accepted: boolean) => {
      handshake.decide(accepted, Date.now())
      step()
    }
    const arm = () => {
      clearTimeout(timer)
      const deadline = handshake.pollTimeout()
      if (deadline === undefined) return
      timer = setTimeout(
        () => {
          handshake.handleTimeout(Date.now())
          step()
        },
        Math.max(0, deadline - Date.now()),
      )
    }
    const onAbort = () => {
      handshake.cancel()
      step()
    }
    if (options.signal?.aborted) return onAbort()
    options.signal?.addEventListener('abort', onAbort)
    if (options.first !== undefined) handshake.receive(options.first, Date.now())
    step()
    readAll(options.messages ?? channel.messages()[Symbol.asyncIterator](), handshake, step)
  })
}

/** Feeds every channel message to the handshake; an end or error of the channel is a close. */
function readAll(messages: AsyncIterator<Uint8Array>, handshake: PairingHandshake, step: () => void): void {
  const run = async () => {
    for (let next = await messages.next(); next.done !== true; next = await messages.next()) {
      handshake.receive(next.value, Date.now())
      step()
      if (handshake.pollTimeout() === undefined) return
    }
  }
  run()
    .catch(() => {})
    .finally(() => {
      handshake.closed()
      step()
    })
}

/** The error of a failed drive, typed. */
export function asPairingError(err: unknown): PairingError {
  return err instanceof PairingError ? err : PairingError.protocol('internal error', err)
}
