import { connect as netConnect } from 'node:net'
import type { Duplex } from 'node:stream'
import type { AdvertAddress } from './advert.js'
import { CONNECT_ROUNDS, CONNECT_STAGGER_MS, CONNECT_TIMEOUT_MS } from './constants.js'
import { PairingError } from './errors.js'
import type { PairingChannel } from './types.js'

/**
 * The joiner's connection step (`spec/pairing.md` §7.3): every advertised address, staggered
 * happy-eyeballs style, the first to complete the Noise handshake wins and the others are dropped.
 * @module
 */

/** Opens a transport to one address; must honour `signal`. */
export type Connector = (address: AdvertAddress, signal: AbortSignal) => Promise<Duplex>

/** Runs the secure handshake over a connected transport. */
export type Securer = (duplex: Duplex, signal: AbortSignal) => Promise<PairingChannel>

/** The winning connection. */
export interface Connected {
  channel: PairingChannel
  address: AdvertAddress
}

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
export async function connectFirst(
  addresses: readonly AdvertAddress[],
  connect: Connector,
  secure: Securer,
  signal: AbortSignal,
): Promise<Connected> {
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

function raceRound(
  addresses: readonly AdvertAddress[],
  connect: Connector,
  secure: Securer,
  signal: AbortSignal,
): Promise<Connected> {
  return new Promise((resolve, reject) => {
    const attempts: AbortController[] = []
    let pending = 0
    let done = false
    let stagger: NodeJS.Timeout | undefined
    let lastError: unknown
    const stopOthers = (keep?: AbortController) => {
      clearTimeout(stagger)
      signal.removeEventListener('abort', onAbort)
      for (const attempt of attempts) if (attempt !== keep) attempt.abort()
    }
    const onAbort = () => {
      done = true
      stopOthers()
      reject(PairingError.cancelled())
    }
    const startNext = () => {
      clearTimeout(stagger)
      if (done || attempts.length >= addresses.length) return
      const address = addresses[attempts.length]!
      const controller = new AbortController()
      attempts.push(controller)
      pending++
      attempt(address, controller, connect, secure).then(
        (channel) => win(channel, address, controller),
        (err) => lose(err),
      )
      stagger = setTimeout(startNext, CONNECT_STAGGER_MS)
    }
    const win = (channel: PairingChannel, address: AdvertAddress, controller: AbortController) => {
      pending--
      if (done) return channel.destroy()
      done = true
      stopOthers(controller)
      resolve({ channel, address })
    }
    const lose = (err: unknown) => {
      pending--
      lastError = err
      if (done) return
      if (attempts.length < addresses.length) return startNext()
      if (pending > 0) return
      done = true
      stopOthers()
      reject(lastError)
    }
    signal.addEventListener('abort', onAbort, { once: true })
    startNext()
  })
}

/** One address: TCP connect then Noise, within {@link CONNECT_TIMEOUT_MS}. */
async function attempt(
  address: AdvertAddress,
  controller: AbortController,
  connect: Connector,
  secure: Securer,
): Promise<PairingChannel> {
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
