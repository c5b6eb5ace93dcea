import {
  type ClientMessage,
  decodeRelayMessage,
  encodeClientMessage,
  RelayCore,
  type RelayEvent,
  type RelayLimits,
  type RelayMessage,
} from '../../../lib/relay/index.js'

/**
 * A relay core on a virtual clock with connections as mailboxes: what the core sends each connection,
 * which it closed (code and reason), which it paused. Drives the core only through its public API.
 */
export class CoreHarness {
  readonly core: RelayCore
  now = 1_000_000
  readonly inbox = new Map<number, Uint8Array[]>()
  readonly closes = new Map<number, { code: number; reason: string }>()
  readonly paused = new Set<number>()
  readonly events: RelayEvent[] = []

  constructor(limits: Partial<RelayLimits> = {}) {
    this.core = new RelayCore(limits)
  }

  open(ip = '192.0.2.1'): number {
    const id = this.core.open(ip, this.now)
    this.inbox.set(id, [])
    this.drain()
    return id
  }

  control(conn: number, message: ClientMessage): void {
    this.data(conn, encodeClientMessage(message))
  }

  data(conn: number, bytes: Uint8Array): void {
    this.core.receive(conn, bytes, this.now)
    this.drain()
  }

  hangUp(conn: number): void {
    this.core.closed(conn, this.now)
    this.drain()
  }

  /** Advances the clock in steps no longer than `step`, firing timers as an adapter would. */
  advance(ms: number, step = 50): void {
    const end = this.now + ms
    while (this.now < end) {
      const due = this.core.pollTimeout()
      this.now = Math.min(end, due === null ? end : Math.max(due, this.now + 1), this.now + step)
      this.core.handleTimeout(this.now)
      this.drain()
    }
  }

  /** Control messages received by `conn`, decoded; takes them out of the inbox. */
  messages(conn: number): RelayMessage[] {
    const received = this.inbox.get(conn) ?? []
    this.inbox.set(conn, [])
    return received.map((bytes) => decodeRelayMessage(bytes))
  }

  /** Raw bytes received by `conn`; takes them out of the inbox. */
  received(conn: number): Uint8Array[] {
    const received = this.inbox.get(conn) ?? []
    this.inbox.set(conn, [])
    return received
  }

  drain(): void {
    for (let actions = this.core.pollTransmit(); actions !== null; actions = this.core.pollTransmit())
      for (const action of actions) {
        if (action.type === 'send') this.inbox.get(action.conn)?.push(action.data)
        else if (action.type === 'close')
          this.closes.set(action.conn, { code: action.code, reason: action.reason })
        else if (action.type === 'pause') this.paused.add(action.conn)
        else this.paused.delete(action.conn)
      }
    for (let event = this.core.nextEvent(); event !== null; event = this.core.nextEvent())
      this.events.push(event)
  }

  /** Reserves `token` on a new connection from `ip`; returns the connection. */
  reserve(token: Uint8Array, ip = '198.51.100.1'): number {
    const conn = this.open(ip)
    this.control(conn, { v: 1, t: 'reserve', tks: [token] })
    return conn
  }

  /**
   * Dials `token` from `ip` and accepts on a fresh connection of `listener`'s; returns both ends.
   * The control messages of the splice (`incoming`, `connected`) are consumed.
   */
  circuit(listener: number, token: Uint8Array, ip = '192.0.2.1', listenerIp = '198.51.100.1') {
    const dialer = this.open(ip)
    this.control(dialer, { v: 1, t: 'connect', tk: token })
    const incoming = this.messages(listener).find((m) => m.t === 'incoming')
    if (incoming?.t !== 'incoming') return { dialer, acceptor: undefined }
    const acceptor = this.open(listenerIp)
    this.control(acceptor, { v: 1, t: 'accept', c: incoming.c })
    this.messages(dialer)
    this.messages(acceptor)
    return { dialer, acceptor }
  }
}

export const token = (fill: number): Uint8Array => new Uint8Array(32).fill(fill)
