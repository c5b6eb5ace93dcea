import { connect as netConnect } from 'node:net'
import type { Duplex } from 'node:stream'
import type { InterfaceList } from '../addresses/book.js'
import { isPublicOffLink } from '../addresses/local.js'
import type { Advert, AdvertAddress } from './advert.js'
import { CONNECT_ROUNDS, CONNECT_STAGGER_MS, CONNECT_TIMEOUT_MS } from './constants.js'
import { PairingError } from './errors.js'
import type { PairingChannel } from './types.js'

/**
 * The joiner's connection step (`spec/pairing.md` §4): every advertised address, staggered
 * happy-eyeballs style, the first to complete the Noise handshake wins and the others are dropped.
 * @module
 */

/**
 * How a connection reached the other device (`spec/holepunch.md` §6): `direct` to an address on its own
 * network or host, `mapped` through a public address (a router's port mapping), `holepunch` by a TCP
 * simultaneous open, `relay` through a relay.
 */
export const CONNECTION_PATHS = ['direct', 'mapped', 'holepunch', 'relay'] as const
/** One of {@link CONNECTION_PATHS}. */
export type ConnectionPath = (typeof CONNECTION_PATHS)[number]

/**
 * The path of a connection dialed to an advertised address: a public address beyond this machine's links
 * is the device's router mapping (a device with no NAT, whose own address is public, is also reported
 * `mapped`: the advert does not say which); any other scope, and a public address of this machine or on
 * one of its links (no router between), is `direct`.
 */
export function dialedPath(
  address: Pick<AdvertAddress, 'host' | 'transport'>,
  interfaces?: InterfaceList,
): ConnectionPath {
  if (address.transport === 'relay') return 'relay'
  return isPublicOffLink(address.host, interfaces) ? 'mapped' : 'direct'
}

/** Opens a transport to one address; must honour `signal`. */
export type Connector = (address: AdvertAddress, signal: AbortSignal) => Promise<Duplex>

/** Something {@link connectFirst} can drop when another attempt won. */
export interface Destroyable {
  destroy(err?: Error): void
}

/** Runs the secure handshake over a connected transport (pairing: Noise XX; reconnects: Noise IK). */
export type Securer<C extends Destroyable = PairingChannel> = (
  duplex: Duplex,
  signal: AbortSignal,
) => Promise<C>

/** The winning connection. */
export interface Connected<C extends Destroyable = PairingChannel> {
  channel: C
  address: AdvertAddress
  /** How it got there; {@link connectFirst} leaves it out, a connection strategy fills it in. */
  path?: ConnectionPath
}

/**
 * Connects to an advertiser by whatever path works (`spec/holepunch.md` §6): the joiner's hook for a
 * connection strategy; the default is {@link connectFirst} over the advertised addresses.
 */
export type AdvertConnector = (
  advert: Advert,
  secure: Securer,
  signal: AbortSignal,
) => Promise<Connected & { path: ConnectionPath }>

/** A plain TCP connect that honours `signal`. */
export const tcpConnect: Connector = (address, signal) =>
  new Promise((resolve, reject) => {
    const socket = netConnect({ host: address.host, port: address.port })
    const onAbort = () => socket.destroy(new Error('aborted'))
    signal.addEventListener('abort', onAbort, { once: true })
    socket.once('connect', () => {
      signal.removeEventListener('abort', onAbort)
      socket.removeListener('error', reject)
      resolve(socket)
    })
    socket.once('error', (err) => {
      signal.removeEventListener('abort', onAbort)
      reject(err)
    })
  })

/**
 * Connects to the first reachable address: {@link CONNECT_ROUNDS} rounds over the list, each starting
 * one attempt every {@link CONNECT_STAGGER_MS} (or as soon as the previous one failed). Rejects with
 * `PAIRING_UNREACHABLE`, or `PAIRING_CANCELLED` when `signal` aborts.
 */
export async function connectFirst<C extends Destroyable = PairingChannel>(
  addresses: readonly AdvertAddress[],
  connect: Connector,
  secure: Securer<C>,
  signal: AbortSignal,
): Promise<Connected<C>> {
  const failures: unknown[] = []
  for (let round = 0; round < CONNECT_ROUNDS; round++) {
    if (signal.aborted) throw PairingError.cancelled()
    try {
      return await raceRound(addresses, connect, secure, signal)
    } catch (err) {
      failures.push(err)
    }
  }
  if (signal.aborted) throw PairingError.cancelled()
  throw PairingError.unreachable(`no answer from ${addresses.map(formatAddress).join(', ')}`, failures.at(-1))
}

function raceRound<C extends Destroyable>(
  addresses: readonly AdvertAddress[],
  connect: Connector,
  secure: Securer<C>,
  signal: AbortSignal,
): Promise<Connected<C>> {
  return new Promise((resolve, reject) =>
    new Race<C>(addresses, connect, secure, signal, { resolve, reject }).start(),
  )
}

/** One happy-eyeballs round: staggered attempts, first success wins, the rest are aborted. */
class Race<C extends Destroyable> {
  readonly #attempts: AbortController[] = []
  #pending = 0
  #done = false
  #stagger: NodeJS.Timeout | undefined

  constructor(
    readonly addresses: readonly AdvertAddress[],
    readonly connect: Connector,
    readonly secure: Securer<C>,
    readonly signal: AbortSignal,
    readonly settle: { resolve(connected: Connected<C>): void; reject(err: unknown): void },
  ) {}

  start(): void {
    this.signal.addEventListener('abort', this.#onAbort, { once: true })
    this.#startNext()
  }

  readonly #startNext = (): void => {
    clearTimeout(this.#stagger)
    if (this.#done || this.#attempts.length >= this.addresses.length) return
    const address = this.addresses[this.#attempts.length]!
    const controller = new AbortController()
    this.#attempts.push(controller)
    this.#pending++
    attempt(address, controller, this.connect, this.secure).then(
      (channel) => this.#win(channel, address, controller),
      (err) => this.#lose(err),
    )
    this.#stagger = setTimeout(this.#startNext, CONNECT_STAGGER_MS)
  }

  #win(channel: C, address: AdvertAddress, controller: AbortController): void {
    this.#pending--
    if (this.#done) {
      channel.destroy()
      return
    }
    this.#stop(controller)
    this.settle.resolve({ channel, address })
  }

  /** A failed attempt starts the next address at once; the round fails when none is left. */
  #lose(err: unknown): void {
    this.#pending--
    if (this.#done) return
    if (this.#attempts.length < this.addresses.length) this.#startNext()
    else if (this.#pending === 0) {
      this.#stop()
      this.settle.reject(err)
    }
  }

  readonly #onAbort = (): void => {
    this.#stop()
    this.settle.reject(PairingError.cancelled())
  }

  /** Ends the round, aborting every attempt but the winner's. */
  #stop(keep?: AbortController): void {
    this.#done = true
    clearTimeout(this.#stagger)
    this.signal.removeEventListener('abort', this.#onAbort)
    for (const controller of this.#attempts) if (controller !== keep) controller.abort()
  }
}

/** One address: TCP connect then Noise, within {@link CONNECT_TIMEOUT_MS}. */
async function attempt<C extends Destroyable>(
  address: AdvertAddress,
  controller: AbortController,
  connect: Connector,
  secure: Securer<C>,
): Promise<C> {
  const timer = setTimeout(() => controller.abort(), CONNECT_TIMEOUT_MS)
  try {
    const duplex = await connect(address, controller.signal)
    try {
      return await secure(duplex, controller.signal)
    } catch (err) {
      duplex.destroy()
      throw err
    }
  } finally {
    clearTimeout(timer)
  }
}

/** `host:port` of an address, IPv6 in brackets. */
export function formatAddress(address: AdvertAddress): string {
  return address.host.includes(':') ? `[${address.host}]:${address.port}` : `${address.host}:${address.port}`
}
