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
 * (`spec/pairing.md` §7.1). Resolves with the peer, or rejects with the PairingError the handshake
 * failed with; either way the channel is closed (gracefully, so a final `error` message is delivered)
 * and no timer or listener is left behind.
 */
export function driveHandshake(
  channel: PairingChannel,
  handshake: PairingHandshake,
  options: DriveOptions,
): Promise<PeerInfo> {
  return new Promise((resolve, reject) =>
    new Driver(channel, handshake, options, { resolve, reject }).start(),
  )
}

/** The error of a failed drive, typed. */
export function asPairingError(err: unknown): PairingError {
  return err instanceof PairingError ? err : PairingError.protocol('internal error', err)
}

interface Settle {
  resolve(peer: PeerInfo): void
  reject(error: PairingError): void
}

/** Pumps bytes, events, the clock and the user's SAS answer between a channel and a handshake. */
class Driver {
  #timer: NodeJS.Timeout | undefined
  #settled = false

  constructor(
    readonly channel: PairingChannel,
    readonly handshake: PairingHandshake,
    readonly options: DriveOptions,
    readonly settle: Settle,
  ) {}

  start(): void {
    if (this.options.signal?.aborted) {
      this.#onAbort()
      return
    }
    this.options.signal?.addEventListener('abort', this.#onAbort)
    if (this.options.first !== undefined) this.handshake.receive(this.options.first, Date.now())
    this.#step()
    this.#read(this.options.messages ?? this.channel.messages()[Symbol.asyncIterator]())
  }

  /** Sends what the handshake queued, dispatches its events, re-arms the timer. */
  readonly #step = (): void => {
    if (this.#settled) return
    this.#flush()
    for (let event = this.handshake.nextEvent(); event !== undefined; event = this.handshake.nextEvent())
      this.#dispatch(event)
    if (!this.#settled) this.#arm()
  }

  #flush(): void {
    // A failed send means the connection broke: the reader sees that too, after any final `error`
    // message the peer managed to send, which explains the failure better.
    for (
      let bytes = this.handshake.pollTransmit();
      bytes !== undefined;
      bytes = this.handshake.pollTransmit()
    )
      this.channel.send(bytes).catch(() => {})
  }

  #dispatch(event: HandshakeEvent): void {
    this.options.onEvent(event)
    if (event.type === 'sas' && this.options.confirm !== undefined)
      this.#askUser(this.options.confirm, event.sas)
    else if (event.type === 'paired') this.#finish(() => this.settle.resolve(event.peer))
    else if (event.type === 'failed') this.#finish(() => this.settle.reject(event.error))
  }

  /** The user's answer; a callback that throws counts as a decline. */
  #askUser(confirm: (sas: string) => Promise<boolean>, sas: string): void {
    const decide = (accepted: boolean) => {
      this.handshake.decide(accepted, Date.now())
      this.#step()
    }
    confirm(sas).then(decide, () => decide(false))
  }

  #arm(): void {
    clearTimeout(this.#timer)
    const deadline = this.handshake.pollTimeout()
    if (deadline !== undefined) this.#timer = setTimeout(this.#onTimer, Math.max(0, deadline - Date.now()))
  }

  readonly #onTimer = (): void => {
    this.handshake.handleTimeout(Date.now())
    this.#step()
  }

  readonly #onAbort = (): void => {
    this.handshake.cancel()
    this.#step()
  }

  /** Feeds every channel message to the handshake; the end or an error of the channel is a close. */
  #read(messages: AsyncIterator<Uint8Array>): void {
    const run = async () => {
      for (let next = await messages.next(); next.done !== true; next = await messages.next()) {
        this.handshake.receive(next.value, Date.now())
        this.#step()
        if (this.#settled) return
      }
    }
    run()
      .catch(() => {})
      .finally(() => {
        this.handshake.closed()
        this.#step()
      })
  }

  #finish(outcome: () => void): void {
    this.#settled = true
    clearTimeout(this.#timer)
    this.options.signal?.removeEventListener('abort', this.#onAbort)
    this.channel.close()
    outcome()
  }
}
