import type { Server, Socket } from 'node:net'
import type { Duplex } from 'node:stream'
import { toHex } from '../crypto/index.js'
import type { PairingCode } from './code.js'
import type { ConnectionPath } from './connect.js'
import {
  HELLO_TIMEOUT_MS,
  MAX_PENDING_CONNECTIONS,
  MAX_PENDING_PER_SOURCE,
  PROTOCOL_VERSION,
  RETIRED_SESSIONS,
} from './constants.js'
import { PairingError, type WireErrorCode } from './errors.js'
import { decodeMessage, encodeMessage } from './messages.js'
import { PendingConnections, sourceOf } from './pending.js'
import type { ChannelOpener, PairingChannel } from './types.js'

/** A connection routed to a session: the channel, its first message (`hello`) and the reader. */
export interface IncomingPairing {
  channel: PairingChannel
  hello: Uint8Array
  messages: AsyncIterator<Uint8Array>
  address: string
  /** How the connection came in, when the caller that accepted it knows (`spec/holepunch.md` §6). */
  path?: ConnectionPath
}

/** Handles a routed connection for one advertisement. */
export type IncomingHandler = (incoming: IncomingPairing) => void

const dispatchers = new WeakMap<Server, PairingDispatcher>()

/** A Map that forgets its oldest entry beyond `limit`. */
class BoundedMap<K, V> extends Map<K, V> {
  constructor(readonly limit: number) {
    super()
  }

  override set(key: K, value: V): this {
    this.delete(key)
    super.set(key, value)
    if (this.size > this.limit) this.delete(this.keys().next().value as K)
    return this
  }
}

/**
 * Routes incoming pairing connections on one listener to the sessions advertised through it
 * (`spec/pairing.md` §4): runs the anonymous Noise responder handshake, reads `hello`, and hands the
 * channel to the session whose advertisement key `hello` names. Unknown keys get `PAIRING_NOT_FOUND`.
 * Several concurrent pairings share one listener this way. Connections not yet routed are bounded
 * (§4.1): {@link HELLO_TIMEOUT_MS} to get there, 64 in all, 4 per source, the oldest evicted.
 */
export class PairingDispatcher {
  readonly #handlers = new Map<string, IncomingHandler>()
  /** Canonical text of each advertised code, by advertisement key: a join of one of them is refused. */
  readonly #codes = new Map<string, string>()
  /** Why recently ended sessions ended, for joiners that resolved the advert before it was withdrawn. */
  readonly #retired = new BoundedMap<string, WireErrorCode>(RETIRED_SESSIONS)
  readonly #open: ChannelOpener
  readonly #pending = new PendingConnections<Duplex>(MAX_PENDING_CONNECTIONS, MAX_PENDING_PER_SOURCE)

  constructor(open: ChannelOpener) {
    this.#open = open
  }

  /**
   * The dispatcher of `server`, created and attached on first use. It stays attached for the server's
   * lifetime, so joiners arriving between or after sessions get an answer instead of silence: a
   * server passed here is dedicated to pairing (share a port by feeding {@link handleSocket} instead).
   */
  static forServer(server: Server, open: ChannelOpener): PairingDispatcher {
    let dispatcher = dispatchers.get(server)
    if (dispatcher === undefined) {
      dispatcher = new PairingDispatcher(open)
      server.on('connection', dispatcher.#onConnection)
      dispatchers.set(server, dispatcher)
    }
    return dispatcher
  }

  /** Routes connections naming `advertKey` to `handler`; `code` is the code advertised under it. */
  register(advertKey: Uint8Array, handler: IncomingHandler, code?: PairingCode): void {
    this.#handlers.set(toHex(advertKey), handler)
    if (code !== undefined) this.#codes.set(toHex(advertKey), code.text)
  }

  /** True while a session on this dispatcher advertises `code` (this device must not join it). */
  isAdvertising(code: PairingCode): boolean {
    return [...this.#codes.values()].includes(code.text)
  }

  /**
   * Stops routing `advertKey`. With `reason`, later
   * joiners naming this key are told why (e.g. `PAIRING_CODE_BURNED`) instead of `PAIRING_NOT_FOUND`.
   */
  unregister(advertKey: Uint8Array, reason?: WireErrorCode): void {
    const id = toHex(advertKey)
    this.#handlers.delete(id)
    this.#codes.delete(id)
    if (reason !== undefined) this.#retired.set(id, reason)
  }

  /** Connections accepted but not yet routed to a session (or refused). */
  get pending(): number {
    return this.#pending.size
  }

  /** Takes one accepted connection (for callers that accept sockets themselves). */
  handleSocket(socket: Duplex, address = 'unknown', path?: ConnectionPath): void {
    // Unauthenticated connections cost a handshake each: bound how many are in flight, and for how long.
    this.#pending.admit(socket, sourceOf(socket, address))
    const timer = setTimeout(() => socket.destroy(), HELLO_TIMEOUT_MS)
    this.#accept(socket, address, path)
      .catch(() => socket.destroy())
      .finally(() => {
        clearTimeout(timer)
        this.#pending.settle(socket)
      })
  }

  readonly #onConnection = (socket: Socket): void => {
    this.handleSocket(socket, `${socket.remoteAddress}:${socket.remotePort}`)
  }

  async #accept(socket: Duplex, address: string, path: ConnectionPath | undefined): Promise<void> {
    const channel = await this.#open(socket, { role: 'responder' })
    const messages = channel.messages()[Symbol.asyncIterator]()
    const first = await messages.next().catch(() => undefined)
    if (first === undefined || first.done === true) return channel.destroy()
    this.#pending.settle(socket)
    const handler = this.#route(first.value)
    if (typeof handler === 'string') return refuse(channel, handler)
    handler({ channel, hello: first.value, messages, address, ...(path === undefined ? {} : { path }) })
  }

  /** The handler for a first message, or the error code to refuse it with. */
  #route(bytes: Uint8Array): IncomingHandler | WireErrorCode {
    try {
      const message = decodeMessage(bytes)
      if (message.type !== 'hello') return 'PAIRING_PROTOCOL'
      const id = toHex(message.advert)
      return this.#handlers.get(id) ?? this.#retired.get(id) ?? 'PAIRING_NOT_FOUND'
    } catch (err) {
      return err instanceof PairingError && err.code === 'PAIRING_UNSUPPORTED_VERSION'
        ? 'PAIRING_UNSUPPORTED_VERSION'
        : 'PAIRING_PROTOCOL'
    }
  }
}

/** Sends a final `error` message and closes gracefully. */
export function refuse(channel: PairingChannel, code: WireErrorCode): void {
  channel.send(encodeMessage({ v: PROTOCOL_VERSION, type: 'error', code })).catch(() => {})
  channel.close()
}
