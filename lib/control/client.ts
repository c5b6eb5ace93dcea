import createDebug from 'debug'
import { WebSocket } from 'ws'
import { AsyncQueue } from './async-queue.js'
import {
  CONTROL_HELLO_TIMEOUT_MS,
  CONTROL_MAX_MESSAGE_BYTES,
  CONTROL_PATH,
  CONTROL_PROTOCOL_VERSION,
} from './constants.js'
import { ControlError } from './errors.js'
import {
  Hello,
  METHODS,
  type MethodName,
  type MethodParams,
  type MethodResult,
  ServerMessage,
} from './protocol.js'

const debug = createDebug('pairctl:control')

/** An event from the daemon, `data` not yet validated (its schema depends on `event`). */
export interface ControlEvent {
  event: string
  data: unknown
}

interface Pending {
  method: MethodName
  resolve(result: unknown): void
  reject(err: unknown): void
}

/**
 * A connection to a daemon's control socket (`spec/control.md` §2-3). Validates every message the daemon
 * sends; requests are matched to responses by id; events are read with {@link ControlClient.events}.
 */
export class ControlClient {
  private nextId = 1
  private readonly pending = new Map<number, Pending>()
  private readonly subscribers = new Set<AsyncQueue<ControlEvent>>()

  private constructor(
    private readonly ws: WebSocket,
    readonly hello: Hello,
  ) {
    ws.on('message', (data) => this.receive(data.toString()))
    ws.on('close', () => this.fail(ControlError.closed()))
  }

  /**
   * Connects to the socket at `socketPath` and waits for the hello. Throws `CONTROL_NOT_RUNNING` when no
   * daemon listens there (`instance` names it in the message) and `CONTROL_VERSION_MISMATCH` when the
   * daemon speaks another protocol version.
   */
  static async connect(socketPath: string, instance: string): Promise<ControlClient> {
    const ws = new WebSocket(`ws+unix://${socketPath}:${CONTROL_PATH}`, {
      maxPayload: CONTROL_MAX_MESSAGE_BYTES,
    })
    const hello = await awaitHello(ws, instance)
    return new ControlClient(ws, hello)
  }

  /** Calls `method`; resolves to its validated result or rejects with the daemon's error code. */
  request<M extends MethodName>(method: M, params: MethodParams<M>): Promise<MethodResult<M>> {
    const id = this.nextId++
    return new Promise((resolve, reject) => {
      if (this.ws.readyState !== WebSocket.OPEN) return reject(ControlError.closed())
      const text = JSON.stringify({ id, method, params })
      const bytes = Buffer.byteLength(text, 'utf8')
      if (bytes > CONTROL_MAX_MESSAGE_BYTES) return reject(ControlError.tooLarge(method, bytes))
      this.pending.set(id, { method, resolve: resolve as (result: unknown) => void, reject })
      this.ws.send(text)
    })
  }

  /** Every event from now on until the connection closes or the loop breaks. */
  events(): AsyncIterableIterator<ControlEvent> {
    const queue = new AsyncQueue<ControlEvent>()
    this.subscribers.add(queue)
    return queue
  }

  /** Closes the connection; pending requests reject with `CONTROL_CLOSED`. */
  async close(): Promise<void> {
    if (this.ws.readyState === WebSocket.CLOSED) return
    const closed = new Promise((resolve) => this.ws.once('close', resolve))
    this.ws.close()
    await closed
  }

  private receive(text: string): void {
    const message = parseServerMessage(text)
    if (message === null) return
    if ('event' in message) for (const queue of this.subscribers) queue.push(message)
    else this.settle(message)
  }

  private settle(message: Exclude<ServerMessage, { event: string }>): void {
    const pending = typeof message.id === 'number' ? this.pending.get(message.id) : undefined
    if (pending === undefined) {
      debug('response to unknown request %o', message.id)
      return
    }
    this.pending.delete(message.id as number)
    if ('error' in message) pending.reject(ControlError.fromRemote(message.error.code, message.error.message))
    else settleResult(pending, message.result)
  }

  private fail(err: ControlError): void {
    for (const pending of this.pending.values()) pending.reject(err)
    this.pending.clear()
    for (const queue of this.subscribers) queue.end()
    this.subscribers.clear()
  }
}

function settleResult(pending: Pending, raw: unknown): void {
  const result = METHODS[pending.method].result.safeParse(raw)
  if (result.success) pending.resolve(result.data)
  else
    pending.reject(
      ControlError.badMessage(`${pending.method} result: ${result.error.issues[0]?.message}`, true),
    )
}

function parseServerMessage(text: string): ServerMessage | null {
  try {
    const parsed = ServerMessage.safeParse(JSON.parse(text))
    if (parsed.success) return parsed.data
    debug('dropping malformed message: %s', parsed.error.issues[0]?.message)
  } catch {
    debug('dropping non-JSON message')
  }
  return null
}

function awaitHello(ws: WebSocket, instance: string): Promise<Hello> {
  return new Promise((resolve, reject) => {
    const fail = (err: ControlError) => {
      clearTimeout(timer)
      ws.terminate()
      reject(err)
    }
    const timer = setTimeout(() => fail(ControlError.notRunning(instance)), CONTROL_HELLO_TIMEOUT_MS)
    ws.once('error', (err: NodeJS.ErrnoException) => fail(connectError(err, instance)))
    ws.once('unexpected-response', (_req, res) =>
      fail(ControlError.versionMismatch(`HTTP ${res.statusCode}`)),
    )
    ws.once('message', (data) => {
      clearTimeout(timer)
      const hello = readHello(data.toString())
      if (hello instanceof ControlError) fail(hello)
      else resolve(hello)
    })
  })
}

function readHello(text: string): Hello | ControlError {
  const message = parseServerMessage(text)
  const hello =
    message !== null && 'event' in message && message.event === 'hello' ? Hello.safeParse(message.data) : null
  if (hello === null || !hello.success)
    return ControlError.badMessage('the first message was not a hello', true)
  if (hello.data.protocol !== CONTROL_PROTOCOL_VERSION)
    return ControlError.versionMismatch(`daemon v${hello.data.protocol}, client v${CONTROL_PROTOCOL_VERSION}`)
  return hello.data
}

function connectError(err: NodeJS.ErrnoException, instance: string): ControlError {
  if (err.code === 'ENOENT' || err.code === 'ECONNREFUSED') return ControlError.notRunning(instance)
  return new ControlError('CONTROL_CONNECT_FAILED', `cannot reach the daemon: ${err.message}`, { cause: err })
}
