import { chmod, unlink } from 'node:fs/promises'
import { createServer, type IncomingMessage, type Server } from 'node:http'
import type { Duplex } from 'node:stream'
import createDebug from 'debug'
import { type WebSocket, WebSocketServer } from 'ws'
import {
  CONTROL_HEARTBEAT_MS,
  CONTROL_MAX_MESSAGE_BYTES,
  CONTROL_MAX_QUEUED_BYTES,
  CONTROL_PATH,
  CONTROL_SOCKET_MODE,
  CONTROL_UPGRADE_TIMEOUT_MS,
} from './constants.js'
import { dispatch } from './dispatcher.js'
import type { Hello, MethodHandlers } from './protocol.js'

const debug = createDebug('pairctl:control')

/** What a {@link ControlServer} serves. */
export interface ControlServerOptions {
  /** Unix socket path (`<instance dir>/control.sock`); a stale file there is replaced. */
  socketPath: string
  handlers: MethodHandlers
  hello: Hello
  /** Bounds on slow and stuck clients (`spec/control.md` §2); the defaults are the constants. */
  limits?: Partial<ControlLimits>
}

/** How long and how much a client may lag before it is disconnected. */
export interface ControlLimits {
  /** {@link CONTROL_MAX_QUEUED_BYTES}. */
  maxQueuedBytes: number
  /** {@link CONTROL_HEARTBEAT_MS}. */
  heartbeatMs: number
  /** {@link CONTROL_UPGRADE_TIMEOUT_MS}. */
  upgradeTimeoutMs: number
}

/**
 * The daemon's control endpoint (`spec/control.md` §2): WebSocket over a Unix domain socket, mode 0600,
 * never TCP. Each connection gets a `hello` event, then request/response plus broadcast events.
 * The caller must hold the instance lock, which is what makes removing a stale socket file safe.
 * A client that lets more than `maxQueuedBytes` pile up towards it, or misses a heartbeat ping, is
 * disconnected, so a stuck client costs a bounded buffer for a bounded time and nobody else waits on it.
 */
export class ControlServer {
  private readonly clients = new Set<WebSocket>()
  /** Clients that answered the last heartbeat ping. */
  private readonly alive = new WeakSet<WebSocket>()
  private readonly heartbeat: NodeJS.Timeout

  private constructor(
    private readonly http: Server,
    private readonly wss: WebSocketServer,
    private readonly options: ControlServerOptions,
    private readonly limits: ControlLimits,
  ) {
    this.heartbeat = setInterval(() => this.ping(), limits.heartbeatMs).unref()
  }

  /** Starts listening; resolves once the socket exists with mode 0600. */
  static async listen(options: ControlServerOptions): Promise<ControlServer> {
    const limits: ControlLimits = {
      maxQueuedBytes: CONTROL_MAX_QUEUED_BYTES,
      heartbeatMs: CONTROL_HEARTBEAT_MS,
      upgradeTimeoutMs: CONTROL_UPGRADE_TIMEOUT_MS,
      ...options.limits,
    }
    const wss = new WebSocketServer({ noServer: true, maxPayload: CONTROL_MAX_MESSAGE_BYTES })
    const http = createServer(
      {
        headersTimeout: limits.upgradeTimeoutMs,
        requestTimeout: limits.upgradeTimeoutMs,
        // Node checks those timeouts this often (30 s by default, longer than the timeout itself).
        connectionsCheckingInterval: Math.max(10, limits.upgradeTimeoutMs / 4),
      },
      (_req, res) => res.writeHead(426, { 'content-type': 'text/plain' }).end(upgradeHint()),
    )
    const server = new ControlServer(http, wss, options, limits)
    http.on('upgrade', (req, socket, head) => server.upgrade(req, socket, head))
    await unlink(options.socketPath).catch(() => undefined)
    await new Promise<void>((resolve, reject) => {
      http.once('error', reject)
      http.listen(options.socketPath, () => resolve())
    })
    await chmod(options.socketPath, CONTROL_SOCKET_MODE)
    return server
  }

  /** Sends event `name` to every connected client. */
  broadcast(name: string, data: unknown): void {
    const text = JSON.stringify({ event: name, data })
    for (const client of this.clients) this.send(client, text)
  }

  /** Disconnects every client, stops listening and removes the socket file. */
  async close(): Promise<void> {
    clearInterval(this.heartbeat)
    for (const client of this.clients) client.terminate()
    this.clients.clear()
    this.wss.close()
    await new Promise<void>((resolve) => this.http.close(() => resolve()))
    this.http.closeAllConnections()
    await unlink(this.options.socketPath).catch(() => undefined)
  }

  /** Only `/v1` without an Origin header: a browser page must never reach the daemon (§7). */
  private upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    if (req.headers.origin !== undefined) refuse(socket, 403, 'browser origins are refused')
    else if (req.url !== CONTROL_PATH) refuse(socket, 404, upgradeHint())
    else this.wss.handleUpgrade(req, socket, head, (ws) => this.accept(ws))
  }

  private accept(ws: WebSocket): void {
    this.clients.add(ws)
    ws.on('close', () => this.clients.delete(ws))
    ws.on('error', (err) => debug('client error: %s', err.message))
    ws.on('message', (data, isBinary) => void this.answer(ws, isBinary ? '' : data.toString()))
    this.alive.add(ws)
    ws.on('pong', () => this.alive.add(ws))
    this.send(ws, JSON.stringify({ event: 'hello', data: this.options.hello }))
  }

  private async answer(ws: WebSocket, text: string): Promise<void> {
    const response = await dispatch(text, this.options.handlers)
    if (ws.readyState === ws.OPEN) this.send(ws, JSON.stringify(response))
  }

  /** Sends, or disconnects a client that has let too much pile up towards it. */
  private send(ws: WebSocket, text: string): void {
    if (ws.bufferedAmount + Buffer.byteLength(text) > this.limits.maxQueuedBytes) {
      debug('client not reading (%d bytes queued): disconnected', ws.bufferedAmount)
      this.clients.delete(ws)
      return void ws.terminate()
    }
    ws.send(text)
  }

  /** Disconnects every client that missed the previous ping, pings the others. */
  private ping(): void {
    for (const ws of this.clients) {
      if (!this.alive.has(ws)) {
        debug('client missed a heartbeat: disconnected')
        this.clients.delete(ws)
        ws.terminate()
        continue
      }
      this.alive.delete(ws)
      ws.ping()
    }
  }
}

function upgradeHint(): string {
  return `pairctl control API: connect with a WebSocket to path ${CONTROL_PATH}\n`
}

function refuse(socket: Duplex, status: number, body: string): void {
  socket.end(`HTTP/1.1 ${status} Refused\r\ncontent-type: text/plain\r\nconnection: close\r\n\r\n${body}`)
}
