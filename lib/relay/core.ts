import { randomBytes, toHex } from '../crypto/index.js'
import { CIRCUIT_ID_BYTES, CLOSE, type CloseCode, DEFAULT_LIMITS, type RelayLimits } from './constants.js'
import { type ClientMessage, decodeClientMessage, encodeRelayMessage, type RelayMessage } from './messages.js'

/** What the adapter must do, in order, as {@link RelayCore.pollTransmit} returns it. */
export type RelayAction =
  | { type: 'send'; conn: number; data: Uint8Array }
  | { type: 'close'; conn: number; code: CloseCode; reason: string }
  /** Stop reading `conn` (its circuit is over its byte rate) until `resume`. */
  | { type: 'pause'; conn: number }
  | { type: 'resume'; conn: number }

/** What happened, for logs and statistics: the relay's whole knowledge of a circuit. */
export type RelayEvent =
  | { type: 'circuit-open'; circuit: string; ips: [string, string] }
  | { type: 'circuit-closed'; circuit: string; bytes: number; reason: string }

/** Counters of refused and closed connections, by cause. */
export type RelayCounters = Record<keyof typeof CLOSE, number>

/** Why a request is refused: the close cause and its reason text. */
type Refusal = [keyof typeof CLOSE, string]

type ConnState = 'new' | 'reserved' | 'dialing' | 'circuit'

interface Conn {
  readonly id: number
  readonly ip: string
  state: ConnState
  /** Last message received (idle timeout of `new` connections and of circuits). */
  lastActive: number
  /** Reservations: tokens held (hex) and when the reservation lapses. */
  tokens: Set<string>
  reservedUntil: number
  circuit: Circuit | undefined
  /** Token bucket of what this end may still send into its circuit. */
  allowance: number
  refilledAt: number
  pausedUntil: number | undefined
}

interface Circuit {
  readonly id: string
  readonly dialer: Conn
  readonly listener: Conn
  acceptor: Conn | undefined
  /** Accept deadline while pending; end of life once spliced. */
  deadline: number
  bytes: number
  finished: boolean
  /** The IPs counted against `circuitsPerIp` (dialer's and listener's). */
  readonly ips: [string, string]
}

/** How often timers are checked: deadlines are enforced to within this. */
export const SWEEP_MS = 100

/**
 * The sans-I/O relay (`spec/relay.md` §5): fed connection openings, WebSocket messages, closings and
 * `now`; returns the messages to send, connections to close or pause, and circuit events. It never
 * throws on remote input: a bad message closes that connection with a close code and reason.
 */
export class RelayCore {
  readonly limits: RelayLimits
  readonly counters = Object.fromEntries(Object.keys(CLOSE).map((name) => [name, 0])) as RelayCounters
  readonly #conns = new Map<number, Conn>()
  readonly #connsPerIp = new Map<string, number>()
  readonly #circuitsPerIp = new Map<string, number>()
  readonly #tokens = new Map<string, Conn>()
  readonly #pending = new Map<string, Circuit>()
  readonly #paused = new Set<Conn>()
  #circuits = 0
  #nextId = 1
  #nextSweep = 0
  #actions: RelayAction[] = []
  #events: RelayEvent[] = []

  constructor(limits: Partial<RelayLimits> = {}) {
    this.limits = { ...DEFAULT_LIMITS, ...limits }
  }

  /** Circuits pending or spliced. */
  get circuitCount(): number {
    return this.#circuits
  }

  /** Open connections the core keeps state for. */
  get connectionCount(): number {
    return this.#conns.size
  }

  /** A WebSocket from `ip` opened; returns its ID. Over a connection limit, a `close` is queued at once. */
  open(ip: string, now: number): number {
    const id = this.#nextId++
    const fromIp = this.#connsPerIp.get(ip) ?? 0
    if (fromIp >= this.limits.connectionsPerIp)
      this.#refuse(
        id,
        'tooManyConnections',
        `more than ${this.limits.connectionsPerIp} connections from your address`,
      )
    else if (this.#conns.size >= this.limits.maxConnections)
      this.#refuse(id, 'relayFull', `relay full: ${this.limits.maxConnections} connections`)
    else {
      this.#conns.set(id, newConn(id, ip, now, this.limits.bytesPerSecond))
      this.#connsPerIp.set(ip, fromIp + 1)
    }
    return id
  }

  /** A binary WebSocket message arrived on `conn`. */
  receive(conn: number, data: Uint8Array, now: number): void {
    const from = this.#conns.get(conn)
    if (from === undefined) return
    from.lastActive = now
    if (from.state === 'circuit') this.#forward(from, data, now)
    else this.#control(from, data, now)
  }

  /** The peer sent a text message, which the protocol does not use. */
  receiveText(conn: number): void {
    const from = this.#conns.get(conn)
    if (from !== undefined) this.#close(from, 'protocol', 'text messages are not part of the protocol')
  }

  /** `conn` closed (either side); its circuit, if any, is closed too. */
  closed(conn: number, _now: number): void {
    const gone = this.#conns.get(conn)
    if (gone !== undefined) this.#drop(gone, 'peer left')
  }

  /** Closes every connection (the relay is shutting down). */
  shutdown(): void {
    const reason = 'relay shutting down'
    for (const conn of this.#conns.values()) {
      this.#refuse(conn.id, 'goingAway', reason)
      if (conn.circuit !== undefined) this.#finishCircuit(conn.circuit, reason)
    }
    for (const table of [
      this.#conns,
      this.#connsPerIp,
      this.#circuitsPerIp,
      this.#tokens,
      this.#pending,
      this.#paused,
    ])
      table.clear()
  }

  /** Actions to perform, in order, or null. */
  pollTransmit(): RelayAction[] | null {
    if (this.#actions.length === 0) return null
    const actions = this.#actions
    this.#actions = []
    return actions
  }

  /** The next event, or null. */
  nextEvent(): RelayEvent | null {
    return this.#events.shift() ?? null
  }

  /** When {@link handleTimeout} must run next, or null with nothing open. */
  pollTimeout(): number | null {
    if (this.#conns.size === 0) return null
    let earliest = this.#nextSweep
    for (const conn of this.#paused) earliest = Math.min(earliest, conn.pausedUntil ?? earliest)
    return earliest
  }

  /** Resumes paused connections that are due, and (once per {@link SWEEP_MS}) closes what timed out. */
  handleTimeout(now: number): void {
    for (const conn of [...this.#paused]) if ((conn.pausedUntil ?? 0) <= now) this.#resume(conn)
    if (now < this.#nextSweep) return
    this.#nextSweep = now + SWEEP_MS
    for (const conn of [...this.#conns.values()]) this.#expire(conn, now)
  }

  #expire(conn: Conn, now: number): void {
    const { idleTimeoutMs } = this.limits
    if (conn.state === 'reserved' && now >= conn.reservedUntil)
      this.#close(conn, 'reservationExpired', 'reservation not renewed')
    else if (conn.state === 'new' && now >= conn.lastActive + idleTimeoutMs)
      this.#close(conn, 'idle', `no request within ${idleTimeoutMs} ms`)
    else if (conn.state === 'dialing' && conn.circuit !== undefined && now >= conn.circuit.deadline)
      this.#close(conn, 'notAccepted', 'the listener did not accept in time')
    else if (conn.state === 'circuit' && conn.circuit?.dialer === conn) this.#expireCircuit(conn.circuit, now)
  }

  #expireCircuit(circuit: Circuit, now: number): void {
    const { idleTimeoutMs, circuitLifetimeMs } = this.limits
    const active = Math.max(circuit.dialer.lastActive, circuit.acceptor?.lastActive ?? 0)
    if (now >= circuit.deadline)
      this.#closeCircuit(circuit, 'circuitLifetime', `circuit lifetime of ${circuitLifetimeMs} ms reached`)
    else if (now >= active + idleTimeoutMs)
      this.#closeCircuit(circuit, 'idle', `no data for ${idleTimeoutMs} ms`)
  }

  #control(from: Conn, data: Uint8Array, now: number): void {
    let message: ClientMessage
    try {
      message = decodeClientMessage(data)
    } catch {
      this.#close(from, 'protocol', 'malformed control message')
      return
    }
    if (message.t === 'reserve' && (from.state === 'new' || from.state === 'reserved'))
      this.#reserve(from, message.tks, now)
    else if (message.t === 'connect' && from.state === 'new') this.#connect(from, message.tk, now)
    else if (message.t === 'accept' && from.state === 'new') this.#accept(from, toHex(message.c), now)
    else this.#close(from, 'protocol', `unexpected ${message.t} message`)
  }

  /** Takes (or renews) the tokens; a token another connection held moves here (the newest wins). */
  #reserve(from: Conn, tokens: Uint8Array[], now: number): void {
    const wanted = new Set(tokens.map(toHex))
    for (const token of from.tokens) if (!wanted.has(token)) this.#tokens.delete(token)
    for (const token of wanted) this.#takeToken(from, token)
    from.tokens = wanted
    from.state = 'reserved'
    from.reservedUntil = now + this.limits.reservationLifetimeMs
    this.#send(from, { v: 1, t: 'reserved', ttl: this.limits.reservationLifetimeMs })
  }

  #takeToken(to: Conn, token: string): void {
    const holder = this.#tokens.get(token)
    this.#tokens.set(token, to)
    if (holder === undefined || holder === to) return
    holder.tokens.delete(token)
    if (holder.tokens.size === 0) this.#close(holder, 'replaced', 'token reserved by a newer connection')
  }

  #connect(from: Conn, tokenBytes: Uint8Array, now: number): void {
    const listener = this.#tokens.get(toHex(tokenBytes))
    const refusal: Refusal | null =
      listener === undefined
        ? ['noReservation', 'no reservation for this token']
        : this.#circuitRefusal(from.ip, listener.ip)
    if (listener === undefined || refusal !== null) {
      this.#close(from, ...refusal!)
      return
    }
    const idBytes = randomBytes(CIRCUIT_ID_BYTES)
    const circuit: Circuit = {
      id: toHex(idBytes),
      dialer: from,
      listener,
      acceptor: undefined,
      deadline: now + this.limits.acceptTimeoutMs,
      bytes: 0,
      finished: false,
      ips: [from.ip, listener.ip],
    }
    this.#countCircuit(circuit, 1)
    this.#pending.set(circuit.id, circuit)
    from.state = 'dialing'
    from.circuit = circuit
    this.#send(listener, { v: 1, t: 'incoming', c: idBytes, tk: tokenBytes })
  }

  #circuitRefusal(dialerIp: string, listenerIp: string): Refusal | null {
    const { circuitsPerIp, maxCircuits } = this.limits
    if (this.#circuits >= maxCircuits) return ['relayFull', `relay full: ${maxCircuits} circuits`]
    for (const ip of new Set([dialerIp, listenerIp]))
      if ((this.#circuitsPerIp.get(ip) ?? 0) >= circuitsPerIp)
        return ['tooManyCircuits', `more than ${circuitsPerIp} circuits at one address`]
    return null
  }

  #accept(from: Conn, id: string, now: number): void {
    const circuit = this.#pending.get(id)
    if (circuit === undefined) {
      this.#close(from, 'noReservation', 'no such circuit')
      return
    }
    this.#pending.delete(id)
    circuit.acceptor = from
    circuit.deadline = now + this.limits.circuitLifetimeMs
    for (const end of [circuit.dialer, from]) {
      end.state = 'circuit'
      end.circuit = circuit
      end.lastActive = now
      this.#send(end, { v: 1, t: 'connected' })
    }
    this.#events.push({ type: 'circuit-open', circuit: circuit.id, ips: circuit.ips })
  }

  /** Passes `data` to the other end unchanged, charging the sender's token bucket. */
  #forward(from: Conn, data: Uint8Array, now: number): void {
    const circuit = from.circuit!
    const to = circuit.dialer === from ? circuit.acceptor! : circuit.dialer
    circuit.bytes += data.length
    this.#actions.push({ type: 'send', conn: to.id, data })
    this.#charge(from, data.length, now)
  }

  #charge(conn: Conn, bytes: number, now: number): void {
    const rate = this.limits.bytesPerSecond
    conn.allowance = Math.min(rate, conn.allowance + ((now - conn.refilledAt) * rate) / 1000) - bytes
    conn.refilledAt = now
    if (conn.allowance >= 0 || conn.pausedUntil !== undefined) return
    conn.pausedUntil = now + Math.ceil((-conn.allowance * 1000) / rate)
    this.#paused.add(conn)
    this.#actions.push({ type: 'pause', conn: conn.id })
  }

  #resume(conn: Conn): void {
    conn.pausedUntil = undefined
    this.#paused.delete(conn)
    if (this.#conns.has(conn.id)) this.#actions.push({ type: 'resume', conn: conn.id })
  }

  #send(to: Conn, message: RelayMessage): void {
    this.#actions.push({ type: 'send', conn: to.id, data: encodeRelayMessage(message) })
  }

  #refuse(id: number, cause: keyof typeof CLOSE, reason: string): void {
    this.counters[cause]++
    this.#actions.push({ type: 'close', conn: id, code: CLOSE[cause], reason })
  }

  /** Closes `conn` with a code and reason, and everything that depended on it. */
  #close(conn: Conn, cause: keyof typeof CLOSE, reason: string): void {
    if (!this.#conns.has(conn.id)) return
    this.#refuse(conn.id, cause, reason)
    this.#drop(conn, reason)
  }

  #closeCircuit(circuit: Circuit, cause: keyof typeof CLOSE, reason: string): void {
    this.#finishCircuit(circuit, reason)
    this.#close(circuit.dialer, cause, reason)
    if (circuit.acceptor !== undefined) this.#close(circuit.acceptor, cause, reason)
  }

  /** Forgets `conn`: its tokens, its counts, and its circuit (whose other end is closed). */
  #drop(conn: Conn, reason: string): void {
    this.#conns.delete(conn.id)
    this.#paused.delete(conn)
    decrement(this.#connsPerIp, conn.ip)
    for (const token of conn.tokens) if (this.#tokens.get(token) === conn) this.#tokens.delete(token)
    for (const circuit of this.#pending.values())
      if (circuit.listener === conn) this.#close(circuit.dialer, 'noReservation', 'the listener left')
    const circuit = conn.circuit
    if (circuit === undefined || !this.#finishCircuit(circuit, reason)) return
    const other = circuit.dialer === conn ? circuit.acceptor : circuit.dialer
    if (other !== undefined) this.#close(other, 'normal', 'peer left')
  }

  /** Releases a circuit's counts once; false if it was already finished. */
  #finishCircuit(circuit: Circuit, reason: string): boolean {
    if (circuit.finished) return false
    circuit.finished = true
    this.#pending.delete(circuit.id)
    this.#countCircuit(circuit, -1)
    if (circuit.acceptor !== undefined)
      this.#events.push({ type: 'circuit-closed', circuit: circuit.id, bytes: circuit.bytes, reason })
    return true
  }

  #countCircuit(circuit: Circuit, delta: 1 | -1): void {
    this.#circuits += delta
    for (const ip of new Set(circuit.ips)) {
      if (delta === 1) this.#circuitsPerIp.set(ip, (this.#circuitsPerIp.get(ip) ?? 0) + 1)
      else decrement(this.#circuitsPerIp, ip)
    }
  }
}

function newConn(id: number, ip: string, now: number, allowance: number): Conn {
  return {
    id,
    ip,
    state: 'new',
    lastActive: now,
    tokens: new Set(),
    reservedUntil: 0,
    circuit: undefined,
    allowance,
    refilledAt: now,
    pausedUntil: undefined,
  }
}

function decrement(counts: Map<string, number>, key: string): void {
  const left = (counts.get(key) ?? 0) - 1
  if (left > 0) counts.set(key, left)
  else counts.delete(key)
}
