import type { Server, Socket } from 'node:net'
import type { Duplex } from 'node:stream'
import { toHex } from '../crypto/index.js'
import { STEP_TIMEOUT_MS } from './constants.js'
import { PairingError, type WireErrorCode } from './errors.js'
import { decodeMessage, encodeMessage } from './messages.js'
import type { ChannelOpener, PairingChannel, PairingIdentity } from './types.js'

/** A connection routed to a session: the channel, its first message (`hello`) and the reader. */
export interface IncomingPairing {
  channel: PairingChannel
  hello: Uint8Array
  messages: AsyncIterator<Uint8Array>
  address: string
}

/** Handles a routed connection for one advertisement. */
export type IncomingHandler = (incoming: IncomingPairing) => void

const dispatchers = new WeakMap<Server, PairingDispatcher>()

/**
 * Routes incoming pairing connections on one listener to the sessions advertised through it
 * (`spec/pairing.md` §8.1): runs the Noise responder handshake, reads `hello`, and hands the channel to
 * the session whose advertisement key `hello` names. Unknown keys get `PAIRING_NOT_FOUND`.
 * Several concurrent pairings share one listener this way.
 */
export class PairingDispatcher {
  readonly #handlers = new Map<string, IncomingHandler>()
  readonly #server: Server | undefined
  readonly #identity: PairingIdentity
  readonly #open: ChannelOpener

  constructor(identity: PairingIdentity, open: ChannelOpener, server?: Server) {
    this.#identity = identity
    this.#open = open
    this.#server = server
  }

  /** The dispatcher of `server` (created and attached on first use, detached when idle). */
  static forServer(server: Server, identity: PairingIdentity, open: ChannelOpener): PairingDispatcher {
    let dispatcher = dispatchers.get(server)
    if (dispatcher === undefined) {
      dispatcher = new PairingDispatcher(identity, open, server)
      dispatchers.set(server, dispatcher)
    }
    return dispatcher
  }

  /** Routes connections naming `advertKey` to `handler`. */
  register(advertKey: Uint8Array, handler: IncomingHandler): void {
    if (this.#handlers.size === 0) this.#server?.on('connection', this.#onConnection)
    this.#handlers.set(toHex(advertKey), handler)
  }

  /** Stops routing `advertKey`; detaches from the server when no session is left. */
  unregister(advertKey: Uint8Array): void {
    this.#handlers.delete(toHex(advertKey))
    if (this.#handlers.size === 0) this.#server?.off('connection', this.#onConnection)
  }

  /** Takes one accepted connection (for callers that accept sockets themselves). */
  handleSocket(socket: Duplex, address = 'unknown'): void {
    this.#accept(socket, address).catch(() => socket.destroy())
  }

  readonly #onConnection = (socket: Socket): void => {
    this.handleSocket(socket, `${socket.remoteAddress}:${socket.remotePort}`)
  }

  async #accept(socket: Duplex, address: string): Promise<void> {
    const channel = await this.#open(socket, { role: 'responder', identity: this.#identity })
    const messages = channel.messages()[Symbol.asyncIterator]()
    const first = await firstMessage(messages)
    if (first === undefined) return channel.destroy()
    const handler = this.#route(first)
    if (typeof handler === 'string') return refuse(channel, handler)
    handler({ channel, hello: first, messages, address })
  }

  /** The handler for a first message, or the error code to refuse it with. */
  #route(bytes: Uint8Array): IncomingHandler | WireErrorCode {
    try {
      const message = decodeMessage(bytes)
      if (message.type !== 'hello') return 'PAIRING_PROTOCOL'
      return this.#handlers.get(toHex(message.advert)) ?? 'PAIRING_NOT_FOUND'
    } catch (err) {
      return err instanceof PairingError && err.code === 'PAIRING_VERSION'
        ? 'PAIRING_VERSION'
        : 'PAIRING_PROTOCOL'
    }
  }
}

/** Sends a final `error` message and closes gracefully. */
export function refuse(channel: PairingChannel, code: WireErrorCode): void {
  channel.send(encodeMessage({ v: 1, type: 'error', code })).catch(() => {})
  channel.close()
}

/** The first message, or undefined on close, error or {@link STEP_TIMEOUT_MS}. */
async function firstMessage(messages: AsyncIterator<Uint8Array>): Promise<Uint8Array | undefined> {
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<undefined>((resolve) => {
    timer = setTimeout(() => resolve(undefined), STEP_TIMEOUT_MS)
  })
  try {
    const next = await Promise.race([messages.next().catch(() => undefined), timeout])
    return next === undefined || next.done === true ? undefined : next.value
  } finally {
    clearTimeout(timer)
  }
}
