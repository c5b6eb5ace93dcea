/**
 * The STUN client's I/O adapter: runs a {@link ClientTransaction} over a UDP socket (its own, or one
 * shared with the DHT) or a TCP connection, with real timers. Spec: `spec/stun.md` §5.4.
 * @module
 */
import dgram from 'node:dgram'
import { lookup } from 'node:dns/promises'
import net from 'node:net'
import { performance } from 'node:perf_hooks'
import { ipFamily } from '../addresses/ip.js'
import type { Endpoint } from './address.js'
import type { ChangeRequest } from './attributes.js'
import { type BindingResult, createBindingRequest, readBindingResponse } from './binding.js'
import { StunError } from './errors.js'
import { StreamFramer } from './framer.js'
import { shortTermKey } from './integrity.js'
import { type BindingProbe, classifyNatWith, type NatClassification } from './nat.js'
import { ClientTransaction, type StunTransport, type TransactionEvent } from './transaction.js'

/** Options of {@link stunBinding}. */
export interface StunBindingOptions {
  /**
   * A bound UDP socket to send from, e.g. the DHT's, so the mapping learned is that port's. Only
   * responses matching this request's transaction id are consumed; the socket is left open.
   */
  socket?: dgram.Socket
  transport?: StunTransport
  /** Local port to bind (own socket or TCP connection); default ephemeral. */
  localPort?: number
  /** Local address to bind; default the wildcard of the server's family. */
  localAddress?: string
  signal?: AbortSignal
  /** Initial RTO in ms (default 500, RFC 8489 §6.2.1). */
  rto?: number
  /** Rc (default 7). */
  rc?: number
  /** Rm (default 16). */
  rm?: number
  /** TCP Ti in ms (default 39 500). */
  tcpTimeout?: number
  changeRequest?: ChangeRequest
  /** Short-term credentials: the request carries MESSAGE-INTEGRITY and the response must too. */
  credentials?: { username: string; password: string }
}

/** {@link BindingResult} plus the local endpoint the request left from. */
export interface StunBindingResult extends BindingResult {
  local: Endpoint
}

/**
 * One Binding transaction (RFC 8489 §6) to `server`. Rejects with {@link StunError}: `STUN_TIMEOUT`,
 * `STUN_ERROR_RESPONSE`, `STUN_UNKNOWN_ATTRIBUTE`, `STUN_INTEGRITY_FAILED`, `STUN_MALFORMED`,
 * `STUN_TRANSPORT`, `STUN_ABORTED`.
 */
export async function stunBinding(
  server: Endpoint,
  options: StunBindingOptions = {},
): Promise<StunBindingResult> {
  if (options.signal?.aborted) throw StunError.aborted()
  const destination = { host: await resolveHost(server.host), port: server.port }
  return options.transport === 'tcp'
    ? bindingOverTcp(destination, options)
    : bindingOverUdp(destination, options)
}

async function resolveHost(host: string): Promise<string> {
  if (ipFamily(host)) return host
  try {
    return (await lookup(host)).address
  } catch (cause) {
    throw StunError.transport(cause)
  }
}

function newTransaction(destination: Endpoint, options: StunBindingOptions): ClientTransaction {
  const key = options.credentials ? shortTermKey(options.credentials.password) : undefined
  const credentials = options.credentials && key ? { username: options.credentials.username, key } : undefined
  const request = createBindingRequest({ changeRequest: options.changeRequest, credentials })
  const changes = options.changeRequest?.ip || options.changeRequest?.port
  return new ClientTransaction(
    {
      request: request.bytes,
      transactionId: request.transactionId,
      destination,
      transport: options.transport ?? 'udp',
      rto: options.rto,
      rc: options.rc,
      rm: options.rm,
      tcpTimeout: options.tcpTimeout,
      acceptAnySource: Boolean(changes),
      integrityKey: key,
    },
    performance.now(),
  )
}

async function bindingOverUdp(
  destination: Endpoint,
  options: StunBindingOptions,
): Promise<StunBindingResult> {
  const socket = options.socket ?? (await openUdpSocket(destination, options))
  const tx = newTransaction(destination, options)
  const onMessage = (bytes: Buffer, rinfo: dgram.RemoteInfo) => {
    if (tx.receive(bytes, { host: rinfo.address, port: rinfo.port }, performance.now())) driver.pump()
  }
  const send = (bytes: Uint8Array, to: Endpoint) => {
    socket.send(bytes, to.port, to.host, (err) => err && driver.fail(StunError.transport(err)))
  }
  const driver = new Driver(tx, send, options.signal)
  socket.on('message', onMessage)
  try {
    const local = socket.address()
    return { ...(await driver.run()), local: { host: local.address, port: local.port } }
  } finally {
    socket.off('message', onMessage)
    if (!options.socket) socket.close()
  }
}

function openUdpSocket(destination: Endpoint, options: StunBindingOptions): Promise<dgram.Socket> {
  const socket = dgram.createSocket(ipFamily(destination.host) === 'IPv6' ? 'udp6' : 'udp4')
  return new Promise((resolve, reject) => {
    socket.once('error', (err) => {
      socket.close()
      reject(StunError.transport(err))
    })
    socket.bind({ port: options.localPort ?? 0, address: options.localAddress }, () => {
      socket.removeAllListeners('error')
      socket.on('error', () => {}) // send errors arrive via the send callback
      resolve(socket)
    })
  })
}

async function bindingOverTcp(
  destination: Endpoint,
  options: StunBindingOptions,
): Promise<StunBindingResult> {
  const socket = await connectTcp(destination, options)
  const tx = newTransaction(destination, options)
  const framer = new StreamFramer()
  const driver = new Driver(tx, (bytes) => socket.write(bytes), options.signal)
  socket.on('data', (chunk: Buffer) => {
    try {
      framer.push(chunk)
      for (let m = framer.next(); m; m = framer.next()) tx.receive(m, destination, performance.now())
      driver.pump()
    } catch (error) {
      driver.fail(error instanceof StunError ? error : StunError.transport(error))
    }
  })
  socket.on('error', (err) => driver.fail(StunError.transport(err)))
  socket.on('close', () => driver.fail(StunError.transport('connection closed before the response')))
  try {
    return {
      ...(await driver.run()),
      local: { host: socket.localAddress ?? '', port: socket.localPort ?? 0 },
    }
  } finally {
    socket.destroy()
  }
}

function connectTcp(destination: Endpoint, options: StunBindingOptions): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({
      host: destination.host,
      port: destination.port,
      localPort: options.localPort,
      localAddress: options.localAddress,
    })
    socket.once('connect', () => {
      socket.removeAllListeners('error')
      resolve(socket)
    })
    socket.once('error', (err) => {
      socket.destroy()
      reject(StunError.transport(err))
    })
  })
}

/** Pumps one transaction: sends what it asks, arms its timer, settles on its event. */
class Driver {
  readonly #tx: ClientTransaction
  readonly #send: (bytes: Uint8Array, to: Endpoint) => void
  readonly #signal: AbortSignal | undefined
  #timer: NodeJS.Timeout | undefined
  #settle: ((event: TransactionEvent) => void) | undefined

  constructor(tx: ClientTransaction, send: (bytes: Uint8Array, to: Endpoint) => void, signal?: AbortSignal) {
    this.#tx = tx
    this.#send = send
    this.#signal = signal
  }

  /** Starts the transaction and resolves with the parsed response. */
  async run(): Promise<BindingResult> {
    const onAbort = () => this.fail(StunError.aborted())
    this.#signal?.addEventListener('abort', onAbort, { once: true })
    try {
      const event = await new Promise<TransactionEvent>((resolve) => {
        this.#settle = resolve
        this.pump()
      })
      if (event.type === 'failed') throw event.error
      return readBindingResponse(event.message, event.from, event.rttMs)
    } finally {
      clearTimeout(this.#timer)
      this.#signal?.removeEventListener('abort', onAbort)
    }
  }

  /** Ends the transaction with `error` (transport failure, abort). */
  fail(error: StunError): void {
    this.#tx.cancel(error)
    this.pump()
  }

  /** Sends due datagrams, delivers a finished event, or re-arms the timer. */
  pump(): void {
    if (!this.#settle) return // not started yet: run() pumps first
    const now = performance.now()
    for (let t = this.#tx.pollTransmit(now); t; t = this.#tx.pollTransmit(now)) this.#send(t.bytes, t.to)
    const event = this.#tx.nextEvent()
    if (event) {
      this.#settle?.(event)
      return
    }
    clearTimeout(this.#timer)
    const at = this.#tx.pollTimeout()
    if (at !== null) this.#timer = setTimeout(() => this.#onTimer(), Math.max(0, at - now))
  }

  #onTimer(): void {
    this.#tx.handleTimeout(performance.now())
    this.pump()
  }
}

/** Options of {@link classifyNat}: those of {@link stunBinding} for UDP (`transport` is ignored). */
export type ClassifyNatOptions = Omit<StunBindingOptions, 'transport' | 'changeRequest'>

/**
 * RFC 5780 NAT behaviour discovery against `server` over UDP from one socket (the given one, e.g.
 * the DHT's, or a fresh one). Filtering tests wait for a full transaction timeout when the NAT
 * drops the answer: pass a short `rto`/`rc`/`rm` when that matters.
 */
export async function classifyNat(
  server: Endpoint,
  options: ClassifyNatOptions = {},
): Promise<NatClassification> {
  const destination = { host: await resolveHost(server.host), port: server.port }
  const socket = options.socket ?? (await openUdpSocket(destination, options))
  const probe: BindingProbe = (to, changeRequest) =>
    stunBinding(to, { ...options, socket, changeRequest }).catch((error: unknown) => {
      if (error instanceof StunError && error.code === 'STUN_TIMEOUT') return null
      throw error
    })
  try {
    const local = socket.address()
    return await classifyNatWith(destination, probe, { host: local.address, port: local.port })
  } finally {
    if (!options.socket) socket.close()
  }
}
