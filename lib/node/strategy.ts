import type { Socket } from 'node:net'
import type { Duplex } from 'node:stream'
import createDebug from 'debug'
import type { InterfaceList } from '../addresses/book.js'
import { isPublicOffLink } from '../addresses/local.js'
import { hasCode } from '../errors.js'
import {
  advertiserKeys,
  type Endpoint,
  joinerKeys,
  NO_PATH_MESSAGE,
  type PunchContext,
  type PunchDht,
  pairingPunchKey,
  RequesterPunch,
  respondToPunches,
} from '../holepunch/index.js'
import type { Advert } from '../pairing/advert.js'
import type { AdvertisedSession } from '../pairing/advertiser.js'
import {
  type AdvertConnector,
  type Connected,
  type ConnectionPath,
  connectFirst,
  type Destroyable,
  dialedPath,
  type Securer,
} from '../pairing/connect.js'
import { DHT_NAMESPACE } from '../pairing/constants.js'
import { PairingError } from '../pairing/errors.js'
import type { PairingChannel } from '../pairing/types.js'
import { type ConnectionPurpose, encodePreamble } from '../presence/index.js'
import { preambleConnector } from './dial.js'
import { pairingConnector as relayAwarePairingConnector } from './relay.js'

const debug = createDebug('pairctl:node:strategy')

/**
 * The connection strategy (`spec/holepunch.md` §6): direct and port-mapped addresses first, then a TCP
 * hole punch, then a relay, started happy-eyeballs style (each after a head start for the ones before,
 * or at once when those failed), the first secured connection winning, all within one deadline.
 * @module
 */

/** The hole punch starts this long after the dialed addresses unless they all failed sooner. */
export const PUNCH_HEAD_START_MS = 300
/**
 * A second, independent hole punch (its own ports, keys and attempts) starts this long after the first
 * unless that failed sooner, so one punched connection whose SYNs or handshake segments were lost does
 * not hold the pairing for its whole window: after a resent SYN, Linux waits 3 s, then 6 s, to resend
 * data. At 20 % loss each way most punches were secured within 3 s of their start (`bench/lab`).
 */
export const PUNCH_HEDGE_MS = 3_000
/** The relay starts this long after the second hole punch unless everything before failed sooner. */
export const RELAY_HEAD_START_MS = 2_000
/**
 * Once every later path failed, the dialed addresses get this long from their start (covering the SYN
 * resends at 1, 3 and 7 s) before the joiner gives up, rather than their full two rounds. 5 s failed 2 of
 * 20 mapped pairings at 20 % loss each way (`bench/lab`): a SYN or its answer lost three times running.
 */
export const DIRECT_BUDGET_MS = 8_000
/** Every path together: past this the joiner gives up and tells the advertiser. */
export const STRATEGY_DEADLINE_MS = 25_000

/** Opens a relayed transport to the advertiser (the relay, issue 14, plugs in here). */
export type RelayConnector = (advert: Advert, signal: AbortSignal) => Promise<Duplex>

/** What the strategy needs from the node. */
export interface StrategyParts {
  dht: PunchDht
  /** Where mappings are learned: the first bootstrap node (STUN on its DHT port); null: no hole punch. */
  stunServer: Endpoint | null
  localAddress?: string
  relay?: RelayConnector
}

/** One path of the strategy; `C` is the secured channel (pairing's, or a reconnect's). */
export interface PathAttempt<C extends Destroyable = PairingChannel> {
  path: ConnectionPath
  headStartMs: number
  run(signal: AbortSignal): Promise<Connected<C>>
}

/**
 * The joiner's connector: dials the advert's addresses (`direct` or `mapped`), punches (`holepunch`,
 * twice over, the second after {@link PUNCH_HEDGE_MS}), then relays. When every path failed each punch
 * publishes its `end` so the advertiser learns at once, and it rejects with `PAIRING_UNREACHABLE` ("no
 * direct path between the two networks: a relay is needed").
 */
export function pairingConnector(parts: StrategyParts): AdvertConnector {
  return async (advert, secure, signal) => {
    // A path's head start is its lead over the next one: the first punch's over the second, and so on.
    const punches = [PUNCH_HEDGE_MS, RELAY_HEAD_START_MS].map((headStartMs) => ({
      headStartMs,
      punch: new RequesterPunch(punchContext(parts, advert.key, signal), () => joinerKeys(advert.key)),
    }))
    const attempts: PathAttempt[] = [
      {
        path: 'direct',
        headStartMs: PUNCH_HEAD_START_MS,
        run: (attempt) => dialUntilAborted(advert, secure, attempt),
      },
      ...punches.map(
        ({ headStartMs, punch }): PathAttempt => ({
          path: 'holepunch',
          headStartMs,
          run: (attempt) => punched(punch, 'pairing', secure, attempt),
        }),
      ),
    ]
    if (parts.relay !== undefined) attempts.push(relayAttempt(parts.relay, advert, secure))
    try {
      return await raceAttempts(attempts, signal)
    } catch (err) {
      if (signal.aborted) throw err
      await Promise.all(punches.map(({ punch }) => punch.tellPeer()))
      throw PairingError.unreachable(hasCode(err, 'HOLEPUNCH_NO_PATH') ? err.message : NO_PATH_MESSAGE, err)
    }
  }
}

function punchContext(parts: StrategyParts, advertKey: Uint8Array, signal: AbortSignal): PunchContext {
  return {
    dht: parts.dht,
    namespace: DHT_NAMESPACE,
    dhtKey: pairingPunchKey(advertKey),
    stunServer: parts.stunServer,
    signal,
    ...(parts.localAddress === undefined ? {} : { localAddress: parts.localAddress }),
  }
}

/**
 * Dials the advertised addresses round after round until one is secured or `signal` aborts: on a lossy
 * link a connect and its handshake can outlast two rounds, and the race's deadline (or the direct budget
 * once every other path failed) is what ends it.
 */
async function dialUntilAborted(advert: Advert, secure: Securer, signal: AbortSignal): Promise<Connected> {
  for (;;) {
    try {
      // Relay addresses come last in an advert and are dialed through their relay (`spec/relay.md` §8.2).
      return await connectFirst(
        advert.addresses,
        preambleConnector('pairing', relayAwarePairingConnector),
        secure,
        signal,
      )
    } catch (err) {
      if (signal.aborted) throw err
      debug('dialed addresses failed, dialing again: %s', describe(err))
    }
  }
}

/** Channel failures of a connection lost in transit, before any pairing message: worth a new punch. */
const LOST_IN_TRANSIT = ['CHANNEL_HANDSHAKE_TIMEOUT', 'CHANNEL_CLOSED', 'CHANNEL_IO', 'CHANNEL_TRUNCATED']

/**
 * The punch's connection as the Noise initiator: the preamble of `purpose`, then the handshake. One lost
 * before it was secured (under loss, its segments can be lost until a timeout) is the punch's failed
 * attempt: the next attempt punches a new connection (`spec/holepunch.md` §5.3).
 */
export async function punched<C extends Destroyable>(
  punch: RequesterPunch,
  purpose: ConnectionPurpose,
  secure: Securer<C>,
  signal: AbortSignal,
): Promise<Connected<C>> {
  for (;;) {
    const { socket, remote } = await punch.run()
    try {
      return await secureOver(socket, purpose, secure, signal, { ...remote, transport: 'tcp' })
    } catch (err) {
      if (signal.aborted || !LOST_IN_TRANSIT.some((code) => hasCode(err, code))) throw err
      debug('punched connection lost before it was secured, punching again: %s', describe(err))
      punch.securingFailed(err)
    }
  }
}

function relayAttempt(relay: RelayConnector, advert: Advert, secure: Securer): PathAttempt {
  return {
    path: 'relay',
    headStartMs: 0,
    run: async (signal) => {
      const duplex = await relay(advert, signal)
      return secureOver(duplex, 'pairing', secure, signal, advert.addresses[0]!)
    },
  }
}

async function secureOver<C extends Destroyable>(
  duplex: Duplex | Socket,
  purpose: ConnectionPurpose,
  secure: Securer<C>,
  signal: AbortSignal,
  address: Connected['address'],
): Promise<Connected<C>> {
  duplex.write(encodePreamble(purpose))
  try {
    return { channel: await secure(duplex, signal), address }
  } catch (err) {
    duplex.destroy()
    throw err
  }
}

/**
 * Starts each attempt after the previous one's head start (or at once when a punch or relay failed, or
 * every started one did), resolves with the first to connect (with its path), aborts the rest; rejects
 * with the last failure when all failed or {@link STRATEGY_DEADLINE_MS} passed.
 */
export function raceAttempts<C extends Destroyable = PairingChannel>(
  attempts: readonly PathAttempt<C>[],
  signal: AbortSignal,
): Promise<Connected<C> & { path: ConnectionPath }> {
  return new Promise((resolve, reject) => {
    const controllers: AbortController[] = []
    let failed = 0
    let directFailed = false
    let done = false
    let lastError: unknown
    let timer: NodeJS.Timeout | undefined
    const finish = (outcome: () => void) => {
      if (done) return
      done = true
      clearTimeout(timer)
      clearTimeout(deadline)
      signal.removeEventListener('abort', onAbort)
      for (const controller of controllers) controller.abort()
      outcome()
    }
    const start = () => {
      clearTimeout(timer)
      const attempt = attempts[controllers.length]
      if (done || attempt === undefined) return
      const controller = new AbortController()
      controllers.push(controller)
      attempt.run(AbortSignal.any([controller.signal, signal])).then(
        (connected) => {
          if (done) return connected.channel.destroy()
          const path = attempt.path === 'direct' ? dialedPath(connected.address) : attempt.path
          controllers.splice(controllers.indexOf(controller), 1)
          finish(() => resolve({ ...connected, path }))
        },
        (err: unknown) => {
          debug('%s path failed: %s', attempt.path, describe(err))
          // The punch's reason (e.g. a symmetric NAT) says more than a dial timeout.
          if (lastError === undefined || attempt.path !== 'direct') lastError = err
          if (attempt.path === 'direct') directFailed = true
          if (++failed === attempts.length) finish(() => reject(lastError))
          else if (failed === attempts.length - 1 && !directFailed) shortenDirect()
          // A failed punch or relay hands over at once; the dialed addresses keep dialing meanwhile.
          else if (failed === controllers.length || attempt.path !== 'direct') start()
        },
      )
      timer = setTimeout(start, attempt.headStartMs)
    }
    const onAbort = () => finish(() => reject(PairingError.cancelled()))
    const startedAt = Date.now()
    let deadline = setTimeout(() => finish(() => reject(lastError)), STRATEGY_DEADLINE_MS)
    /** Only the dialed addresses are left: they get {@link DIRECT_BUDGET_MS} from their start, at least 1 s more. */
    const shortenDirect = () => {
      clearTimeout(deadline)
      const left = Math.max(startedAt + DIRECT_BUDGET_MS - Date.now(), 1_000)
      deadline = setTimeout(() => finish(() => reject(lastError)), left)
    }
    signal.addEventListener('abort', onAbort, { once: true })
    start()
  })
}

function describe(err: unknown): string {
  return err instanceof Error ? err.message : String(err)
}

/**
 * The advertiser's side: answers hole-punch requests for this advert until the session ends, handing
 * each punched connection to `accept` (the preamble router, as if accepted), and failing the session
 * with the no-path error when the joiner says it gave up.
 */
export function answerPairingPunches(
  parts: StrategyParts,
  session: AdvertisedSession,
  accept: (socket: Socket) => void,
): void {
  const context = punchContext(parts, session.keyPair.publicKey, session.signal)
  respondToPunches(context, (salt) => advertiserKeys(session.keyPair, salt), {
    onConnection: ({ socket }) => accept(socket),
    onEnded: (error) => session.fail(PairingError.unreachable(error.message, error)),
  }).catch((err: Error) => debug('answering punches: %s', err.message))
}

/**
 * The path of a connection the listener accepted: `mapped` when it came from a public address beyond this
 * machine's links while this node holds a router mapping, else `direct`.
 */
export function acceptedPath(
  remoteHost: string | undefined,
  hasMapping: boolean,
  interfaces?: InterfaceList,
): ConnectionPath {
  return hasMapping && remoteHost !== undefined && isPublicOffLink(remoteHost, interfaces)
    ? 'mapped'
    : 'direct'
}
