import { EventEmitter } from 'node:events'
import type { Socket as TcpSocket } from 'node:net'
import createDebug from 'debug'
import { WebSocket } from 'ws'
import { toHex } from '../crypto/index.js'
import { MAX_CONTROL_BYTES, MAX_DATA_MESSAGE, RELAY_PATH } from './constants.js'
import { RelayError } from './errors.js'
import { type ClientMessage, decodeRelayMessage, encodeClientMessage, type RelayMessage } from './messages.js'
import { RelayStream } from './stream.js'

const debug = createDebug('pairctl:relay:client')

/** Where a relay listens. */
export interface RelayAddress {
  host: string
  port: number
}

/** How long opening a WebSocket and getting the relay's answer may take. */
const OPEN_TIMEOUT_MS = 10_000
/** Reconnect delays of a lost reservation: doubling from the first to the last. */
const RETRY_MS = { first: 500, max: 30_000 }

/**
 * The masking key of every frame a client sends: zero, so neither the client nor the relay spends a
 * pass over each byte on it (`spec/relay.md` §3.1; `ws` skips a zero key on both sides, and without its
 * optional native addon masking runs byte by byte in JavaScript, which held the channel through a relay
 * to 0.27× its direct throughput, `bench/relay`). Masking hides nothing from the relay in any case.
 */
function zeroMask(mask: Buffer): void {
  mask.fill(0)
}

/** `HOST:PORT` of a relay, IPv6 in brackets. */
export function formatRelay(relay: RelayAddress): string {
  return relay.host.includes(':') ? `[${relay.host}]:${relay.port}` : `${relay.host}:${relay.port}`
}

/** Parses `HOST:PORT` (IPv6 in brackets); `RELAY_BAD_ARGUMENT` otherwise. */
export function parseRelayAddress(text: string): RelayAddress {
  const match = text.match(/^(?:\[([0-9a-fA-F:.]+)\]|([^\s:[\]]+)):(\d{1,5})$/)
  const port = Number(match?.[3])
  if (match === null || port < 1 || port > 65535)
    throw RelayError.badArgument(`relay "${text}" is not HOST:PORT`)
  return { host: match[1] ?? match[2]!, port }
}

/** The WebSocket URL of a relay (`spec/relay.md` §3.1). */
export function relayUrl(relay: RelayAddress): string {
  return `ws://${formatRelay(relay)}${RELAY_PATH}`
}

/**
 * Opens a WebSocket to `relay`, sends `first`, and resolves with the relay's first answer. Rejects with
 * `RELAY_UNREACHABLE`, `RELAY_CLOSED` (the relay refused, with its close code and reason),
 * `RELAY_PROTOCOL_ERROR` or `RELAY_ABORTED`.
 */
/** An answered request: the socket, the relay's first answer and what followed it in the same read. */
interface Answered {
  ws: WebSocket
  answer: RelayMessage
  /** Stops collecting and returns the messages that arrived after the answer (a circuit's first bytes). */
  adopt(): Buffer[]
  /** The TCP connection under `ws` (from its upgrade response, which comes before any message). */
  tcp: TcpSocket | undefined
}

function request(relay: RelayAddress, first: ClientMessage, signal?: AbortSignal): Promise<Answered> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(relayUrl(relay), {
      perMessageDeflate: false,
      maxPayload: MAX_DATA_MESSAGE,
      handshakeTimeout: OPEN_TIMEOUT_MS,
      generateMask: zeroMask,
    })
    const fail = (err: RelayError) => {
      cleanup()
      ws.terminate()
      reject(err)
    }
    const onAbort = () => fail(RelayError.aborted())
    const onError = (err: Error) => fail(RelayError.unreachable(formatRelay(relay), err))
    const onClose = (code: number, reason: Buffer) => fail(RelayError.closedByRelay(code, reason.toString()))
    // Messages after the answer can arrive in the same read, before the caller attaches its listener.
    const early: Buffer[] = []
    const collect = (data: Buffer) => early.push(data)
    const adopt = () => {
      ws.off('message', collect)
      return early
    }
    let tcp: TcpSocket | undefined
    ws.once('upgrade', (response) => {
      tcp = response.socket
    })
    const onMessage = (data: Buffer, isBinary: boolean) => {
      cleanup()
      const answer = isBinary && data.length <= MAX_CONTROL_BYTES ? tryDecode(data) : null
      if (answer === null) return fail(RelayError.protocol('bad control message'))
      ws.on('message', collect)
      resolve({ ws, answer, adopt, tcp })
    }
    const timer = setTimeout(
      () => onError(new Error(`no answer within ${OPEN_TIMEOUT_MS} ms`)),
      OPEN_TIMEOUT_MS,
    )
    const cleanup = () => {
      clearTimeout(timer)
      signal?.removeEventListener('abort', onAbort)
      ws.off('error', onError).off('close', onClose).off('message', onMessage)
    }
    if (signal?.aborted) return onAbort()
    signal?.addEventListener('abort', onAbort, { once: true })
    ws.on('error', onError).on('close', onClose).on('message', onMessage)
    ws.once('open', () => ws.send(encodeClientMessage(first)))
  })
}

function tryDecode(data: Buffer): RelayMessage | null {
  try {
    return decodeRelayMessage(data)
  } catch {
    return null
  }
}

/** Waits for `connected` on a dial or accept; anything else is a protocol error. */
async function splice(relay: RelayAddress, first: ClientMessage, signal?: AbortSignal): Promise<RelayStream> {
  const { ws, answer, adopt, tcp } = await request(relay, first, signal)
  if (answer.t !== 'connected') {
    ws.terminate()
    throw RelayError.protocol(`expected connected, got ${answer.t}`)
  }
  return new RelayStream(ws, { early: adopt(), tcp })
}

/**
 * Dials the listener that reserved `token` on `relay` (`spec/relay.md` §3.2): resolves with the circuit
 * as a byte stream once the relay spliced it, for the connection preamble and Noise to run over.
 */
export function dialRelay(
  relay: RelayAddress,
  token: Uint8Array,
  signal?: AbortSignal,
): Promise<RelayStream> {
  return splice(relay, { v: 1, t: 'connect', tk: token }, signal)
}

/** A circuit a {@link Reservation} accepted: the stream and the token it was dialed under. */
export interface IncomingCircuit {
  stream: RelayStream
  token: Uint8Array
}

/** Events of a {@link Reservation}. */
export interface ReservationEventMap {
  /** The relay confirmed the reservation (again, after each renewal or reconnect). */
  reserved: []
  /** The reservation was lost (relay gone or refused); it is retried with backoff. */
  lost: [RelayError]
  circuit: [IncomingCircuit]
}

/**
 * A listener's reservation on one relay (`spec/relay.md` §3.2): holds a WebSocket under a set of tokens,
 * renews it at half its lifetime, accepts each `incoming` circuit on a new WebSocket and emits it, and
 * reconnects with doubling backoff when the relay goes away. Tokens can change at any time.
 */
export class Reservation extends EventEmitter<ReservationEventMap> {
  readonly relay: RelayAddress
  #tokens: Uint8Array[]
  #ws: WebSocket | undefined
  #renew: NodeJS.Timeout | undefined
  #retry: NodeJS.Timeout | undefined
  #delay = RETRY_MS.first
  #reserved = false
  #everReserved = false
  #connecting = false
  #closed = false

  constructor(relay: RelayAddress, tokens: Uint8Array[]) {
    super()
    this.relay = relay
    this.#tokens = tokens
  }

  /** True once the relay confirmed this reservation, even if it was lost since. */
  get everReserved(): boolean {
    return this.#everReserved
  }

  /** True while the relay holds the reservation. */
  get reserved(): boolean {
    return this.#reserved
  }

  /** Connects (once); a reservation with no tokens waits for {@link setTokens}. */
  start(): this {
    if (this.#tokens.length === 0 || this.#connecting || this.#ws !== undefined || this.#retry !== undefined)
      return this
    this.#connecting = true
    void this.#connect().finally(() => {
      this.#connecting = false
    })
    return this
  }

  /** Replaces the tokens; sent to the relay at once when connected. */
  setTokens(tokens: Uint8Array[]): void {
    const same =
      tokens.length === this.#tokens.length && tokens.every((t, i) => toHex(t) === toHex(this.#tokens[i]!))
    this.#tokens = tokens
    if (same || this.#closed) return
    if (this.#ws?.readyState === WebSocket.OPEN && tokens.length > 0) this.#send()
    else if (tokens.length === 0) this.#disconnect()
    else this.start()
  }

  /** Releases the reservation and stops reconnecting. */
  close(): void {
    this.#closed = true
    this.#disconnect()
  }

  async #connect(): Promise<void> {
    try {
      const { ws, answer, adopt } = await request(this.relay, this.#reserveMessage())
      if (this.#closed || this.#tokens.length === 0) return void ws.close()
      this.#ws = ws
      const early = adopt()
      ws.on('message', (data: Buffer) => this.#onMessage(data))
      ws.on('close', (code, reason) => this.#onLost(RelayError.closedByRelay(code, reason.toString())))
      ws.on('error', (err) => this.#onLost(RelayError.unreachable(formatRelay(this.relay), err)))
      this.#onAnswer(answer)
      for (const data of early) this.#onMessage(data)
    } catch (err) {
      this.#onLost(err as RelayError)
    }
  }

  #reserveMessage(): ClientMessage {
    return { v: 1, t: 'reserve', tks: this.#tokens }
  }

  #send(): void {
    this.#ws?.send(encodeClientMessage(this.#reserveMessage()))
  }

  #onMessage(data: Buffer): void {
    const answer = data.length <= MAX_CONTROL_BYTES ? tryDecode(data) : null
    if (answer === null) return void this.#ws?.terminate()
    this.#onAnswer(answer)
  }

  #onAnswer(answer: RelayMessage): void {
    if (answer.t === 'reserved') {
      this.#reserved = true
      this.#everReserved = true
      this.#delay = RETRY_MS.first
      clearTimeout(this.#renew)
      this.#renew = setTimeout(() => this.#send(), answer.ttl / 2)
      this.emit('reserved')
    } else if (answer.t === 'incoming') this.#accept(answer.c, answer.tk)
    else this.#ws?.terminate()
  }

  #accept(circuit: Uint8Array, token: Uint8Array): void {
    splice(this.relay, { v: 1, t: 'accept', c: circuit }).then(
      (stream) => this.emit('circuit', { stream, token }),
      (err: RelayError) =>
        debug('accepting a circuit on %s failed: %s', formatRelay(this.relay), err.message),
    )
  }

  #onLost(error: RelayError): void {
    this.#disconnect()
    if (this.#closed || this.#tokens.length === 0) return
    this.emit('lost', error)
    debug(
      'reservation on %s lost: %s; retrying in %d ms',
      formatRelay(this.relay),
      error.message,
      this.#delay,
    )
    this.#retry = setTimeout(() => {
      this.#retry = undefined
      this.start()
    }, this.#delay)
    this.#delay = Math.min(this.#delay * 2, RETRY_MS.max)
  }

  #disconnect(): void {
    this.#reserved = false
    clearTimeout(this.#renew)
    clearTimeout(this.#retry)
    this.#retry = undefined
    const ws = this.#ws
    this.#ws = undefined
    ws?.removeAllListeners()
    ws?.on('error', () => {})
    if (ws !== undefined && ws.readyState !== WebSocket.CLOSED) ws.close()
  }
}
