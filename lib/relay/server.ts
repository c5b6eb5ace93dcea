import { createServer, type IncomingMessage, type Server } from 'node:http'
import type { Socket as TcpSocket } from 'node:net'
import createDebug from 'debug'
import { type WebSocket, WebSocketServer } from 'ws'
import { MAX_DATA_MESSAGE, RELAY_PATH, type RelayLimits } from './constants.js'
import { type RelayAction, RelayCore, type RelayEvent } from './core.js'

const debug = createDebug('pairctl:relay')

const UPGRADE_HINT = `pairctl relay: connect with a WebSocket to path ${RELAY_PATH}\n`
const TOO_MANY_UPGRADES = 'too many connections from your address are still upgrading\n'

/** Bytes queued towards one connection above which the connection feeding it is paused. */
const HIGH_WATER = 1024 * 1024

/** Options of {@link RelayServer.listen}. */
export interface RelayServerOptions {
  /** Address to bind; default all interfaces. */
  host?: string
  port: number
  limits?: Partial<RelayLimits>
  /** The core to drive (tests pass a subclass that records or alters what it forwards). */
  core?: RelayCore
  /** Called with each circuit event (`pairctl relay` logs them). */
  onEvent?: (event: RelayEvent) => void
}

interface Socket {
  ws: WebSocket
  /** The TCP connection under `ws`, corked while one read's messages are forwarded to it. */
  tcp: TcpSocket
  /** Bytes handed to `ws.send` and not yet written. */
  queued: number
  /** Why reading is paused: over its byte rate, or its peer's queue is full. */
  paused: Set<'rate' | number>
  /** The connection paused because this one's queue is full. */
  blocked: Socket | undefined
}

/**
 * The relay's WebSocket adapter (`spec/relay.md` §3): one `ws` server on `RELAY_PATH`, each connection an
 * ID of the {@link RelayCore}, whose actions it performs. All protocol decisions are the core's.
 */
export class RelayServer {
  readonly core: RelayCore
  readonly #http: Server
  readonly #wss: WebSocketServer
  readonly #sockets = new Map<number, Socket>()
  /** TCP connections not yet upgraded, per IP (`spec/relay.md` §5: `upgradesPerIp`). */
  readonly #upgrading = new Map<string, number>()
  /** Each counted connection's `close` listener, removed once it stops counting. */
  readonly #uncount = new WeakMap<TcpSocket, () => void>()
  readonly #onEvent: ((event: RelayEvent) => void) | undefined
  #timer: NodeJS.Timeout | undefined
  #timerAt = Infinity

  private constructor(options: RelayServerOptions) {
    this.core = options.core ?? new RelayCore(options.limits)
    this.#onEvent = options.onEvent
    const { upgradeTimeoutMs } = this.core.limits
    // A client that trickles its upgrade request (or sends none) must not hold a socket for Node's
    // default 60 s header timeout; Node checks these timeouts every connectionsCheckingInterval.
    this.#http = createServer(
      {
        headersTimeout: upgradeTimeoutMs,
        requestTimeout: upgradeTimeoutMs,
        connectionsCheckingInterval: Math.max(10, upgradeTimeoutMs / 4),
      },
      (_req, res) => res.writeHead(426, { 'content-type': 'text/plain' }).end(UPGRADE_HINT),
    )
    this.#http.on('connection', (socket: TcpSocket) => this.#onTcp(socket))
    this.#http.on('upgrade', (_request: IncomingMessage, socket: TcpSocket) => this.#upgraded(socket))
    this.#wss = new WebSocketServer({
      server: this.#http,
      path: RELAY_PATH,
      maxPayload: MAX_DATA_MESSAGE,
      perMessageDeflate: false,
      clientTracking: false,
    })
    this.#wss.on('connection', (ws, request) => this.#onConnection(ws, request))
    this.#wss.on('error', (err) => debug('server error: %s', err.message))
  }

  /** Starts a relay; resolves once it listens. */
  static listen(options: RelayServerOptions): Promise<RelayServer> {
    const relay = new RelayServer(options)
    return new Promise((resolve, reject) => {
      relay.#http.once('error', reject)
      relay.#http.listen(options.port, options.host, () => {
        relay.#http.off('error', reject)
        relay.#http.on('error', (err) => debug('server error: %s', err.message))
        resolve(relay)
      })
    })
  }

  /** The bound address. */
  address(): { host: string; port: number } {
    const address = this.#http.address()
    if (address === null || typeof address === 'string') throw new Error('relay bound to a pipe')
    return { host: address.address, port: address.port }
  }

  /** Closes every connection with 1001 and stops listening. */
  close(): Promise<void> {
    this.core.shutdown()
    this.#flush()
    clearTimeout(this.#timer)
    for (const socket of this.#sockets.values()) socket.ws.terminate()
    this.#wss.close()
    this.#http.closeAllConnections()
    return new Promise((resolve) => this.#http.close(() => resolve()))
  }

  /**
   * Bytes handed to sockets and not yet written, over all connections. The adapter stops reading a
   * sender once more than 1 MiB waits towards its peer, so this stays near 1 MiB per stuck reader.
   */
  get queuedBytes(): number {
    let total = 0
    for (const socket of this.#sockets.values()) total += socket.queued
    return total
  }

  /** Counts a new TCP connection against its IP's upgrades, refusing it with 429 over the limit. */
  #onTcp(socket: TcpSocket): void {
    const ip = socketIp(socket)
    const count = (this.#upgrading.get(ip) ?? 0) + 1
    if (count > this.core.limits.upgradesPerIp) {
      socket.end(`HTTP/1.1 429 Too Many Requests\r\nconnection: close\r\n\r\n${TOO_MANY_UPGRADES}`)
      return
    }
    this.#upgrading.set(ip, count)
    const done = () => this.#upgraded(socket)
    socket.once('close', done)
    this.#uncount.set(socket, done)
  }

  /** The connection stopped counting as upgrading: its upgrade request arrived, or it closed. */
  #upgraded(socket: TcpSocket): void {
    const done = this.#uncount.get(socket)
    if (done === undefined) return
    this.#uncount.delete(socket)
    socket.off('close', done)
    const ip = socketIp(socket)
    const count = (this.#upgrading.get(ip) ?? 1) - 1
    if (count > 0) this.#upgrading.set(ip, count)
    else this.#upgrading.delete(ip)
  }

  #onConnection(ws: WebSocket, request: IncomingMessage): void {
    const id = this.core.open(socketIp(request.socket), Date.now())
    const socket: Socket = { ws, tcp: request.socket, queued: 0, paused: new Set(), blocked: undefined }
    this.#sockets.set(id, socket)
    ws.on('message', (data: Buffer, isBinary) => {
      if (isBinary) this.core.receive(id, data, Date.now())
      else this.core.receiveText(id)
      this.#flush(id)
    })
    ws.on('close', () => {
      this.#sockets.delete(id)
      this.core.closed(id, Date.now())
      this.#flush()
    })
    ws.on('error', (err) => debug('connection %d: %s', id, err.message))
    this.#flush()
  }

  /** Performs the core's actions; `from` is the connection whose message produced them. */
  #flush(from?: number): void {
    for (let actions = this.core.pollTransmit(); actions !== null; actions = this.core.pollTransmit())
      for (const action of actions) this.#perform(action, from)
    for (let event = this.core.nextEvent(); event !== null; event = this.core.nextEvent())
      this.#onEvent?.(event)
    this.#arm()
  }

  #perform(action: RelayAction, from: number | undefined): void {
    const socket = this.#sockets.get(action.conn)
    if (socket === undefined) return
    if (action.type === 'send') this.#send(socket, action.conn, action.data, from)
    else if (action.type === 'close') {
      this.#sockets.delete(action.conn)
      socket.ws.close(action.code, action.reason)
      // A peer that never answers the close handshake must not hold its socket for ws's 30 s.
      setTimeout(() => socket.ws.terminate(), 5_000).unref()
    } else if (action.type === 'pause') this.#pause(socket, 'rate')
    else this.#unpause(socket, 'rate')
  }

  /** Sends, pausing the sender while more than {@link HIGH_WATER} bytes wait towards this connection. */
  #send(socket: Socket, id: number, data: Uint8Array, from: number | undefined): void {
    socket.queued += data.length
    this.#cork(socket)
    socket.ws.send(data, { binary: true }, () => {
      socket.queued -= data.length
      if (socket.queued > HIGH_WATER / 2 || socket.blocked === undefined) return
      this.#unpause(socket.blocked, id)
      socket.blocked = undefined
    })
    const source = from === undefined || from === id ? undefined : this.#sockets.get(from)
    if (source === undefined || socket.queued <= HIGH_WATER || socket.blocked !== undefined) return
    socket.blocked = source
    this.#pause(source, id)
  }

  /**
   * Holds `socket`'s writes until the current read has been handled: `ws` emits every message of one read in
   * one turn, and a circuit's frames arrive as a long message and a short one, so they leave in one writev
   * rather than one system call each.
   */
  #cork({ tcp }: Socket): void {
    if (tcp.writableCorked > 0) return
    tcp.cork()
    process.nextTick(() => tcp.uncork())
  }

  #pause(socket: Socket, reason: 'rate' | number): void {
    if (socket.paused.size === 0) socket.ws.pause()
    socket.paused.add(reason)
  }

  #unpause(socket: Socket, reason: 'rate' | number): void {
    if (!socket.paused.delete(reason) || socket.paused.size > 0) return
    socket.ws.resume()
  }

  #arm(): void {
    const deadline = this.core.pollTimeout()
    if (deadline === null || this.#timerAt <= deadline) return
    clearTimeout(this.#timer)
    this.#timerAt = deadline
    this.#timer = setTimeout(this.#onTimer, Math.max(0, deadline - Date.now()))
  }

  readonly #onTimer = (): void => {
    this.#timerAt = Infinity
    this.core.handleTimeout(Date.now())
    this.#flush()
  }
}

/** The peer's IP, IPv4-mapped IPv6 as plain IPv4 so both forms count as one address. */
function socketIp(socket: TcpSocket): string {
  const ip = socket.remoteAddress ?? 'unknown'
  return ip.startsWith('::ffff:') ? ip.slice(7) : ip
}
