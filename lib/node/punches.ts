import type { Socket } from 'node:net'
import createDebug from 'debug'
import type { SecureChannel } from '../channel/index.js'
import {
  EPOCH_MARGIN_MS,
  type PunchContext,
  presenceKeys,
  presencePunchKey,
  RECONNECT_POLL_INTERVAL_MS,
  RECONNECT_QUIET_AFTER_MS,
  RECONNECT_QUIET_POLL_INTERVAL_MS,
  RequesterPunch,
  respondToPunches,
} from '../holepunch/index.js'
import type { Securer } from '../pairing/connect.js'
import { DHT_NAMESPACE } from '../pairing/constants.js'
import type { PairedDevice } from '../pairing/store.js'
import { epochOf, presenceConstants } from '../presence/index.js'
import {
  type PathAttempt,
  PUNCH_HEDGE_MS,
  punched,
  RELAY_HEAD_START_MS,
  type StrategyParts,
} from './strategy.js'

const debug = createDebug('pairctl:node:punches')

/**
 * Hole punching for reconnects (`spec/holepunch.md` §4.1): a device that cannot be dialed answers punch
 * requests from the paired devices it is not linked to, and a device dialing one whose record it found
 * punches alongside the dialed addresses. The records live in namespace `pairing` under
 * {@link presencePunchKey}, per epoch and per direction, sealed with the pair's presence secret.
 * @module
 */

/**
 * The presence epochs a reconnect's two punches ask in at `now`: the current one twice, or within
 * {@link EPOCH_MARGIN_MS} (at most a quarter epoch) of a boundary, the current one and the one across it,
 * so a responder whose clock is off by less than the margin reads one of the two.
 */
export function punchEpochs(now: number, epochMs = presenceConstants.PRESENCE_EPOCH_MS): [number, number] {
  const epoch = epochOf(now, epochMs)
  const into = now - epoch * epochMs
  const margin = Math.min(EPOCH_MARGIN_MS, epochMs / 4)
  if (into < margin && epoch > 0) return [epoch, epoch - 1]
  if (epochMs - into <= margin) return [epoch, epoch + 1]
  return [epoch, epoch]
}

/** The context of the punch records asking `responderKey` to punch in `epoch`. */
function reconnectContext(
  parts: StrategyParts,
  presenceSecret: Uint8Array,
  responderKey: Uint8Array,
  epoch: number,
  signal: AbortSignal,
): PunchContext {
  return {
    dht: parts.dht,
    namespace: DHT_NAMESPACE,
    dhtKey: presencePunchKey(presenceSecret, responderKey, epoch),
    stunServer: parts.stunServer,
    signal,
    ...(parts.localAddress === undefined ? {} : { localAddress: parts.localAddress }),
  }
}

/**
 * The two hole punches of a reconnect to `device` (`spec/holepunch.md` §6): started after the dialed
 * addresses' head start, the second one {@link PUNCH_HEDGE_MS} after the first (or under the adjacent
 * epoch's key near a boundary, {@link punchEpochs}); empty without a STUN server or a presence secret.
 */
export function reconnectPunches(
  parts: StrategyParts,
  device: PairedDevice,
  secure: Securer<SecureChannel>,
  signal: AbortSignal,
  epochMs?: number,
): PathAttempt<SecureChannel>[] {
  const secret = device.presenceSecret
  if (parts.stunServer === null || secret === undefined) return []
  const epochs = punchEpochs(Date.now(), epochMs)
  return [PUNCH_HEDGE_MS, RELAY_HEAD_START_MS].map((headStartMs, i) => {
    const context = reconnectContext(parts, secret, device.identityKey, epochs[i]!, signal)
    const punch = new RequesterPunch(context, () => presenceKeys(secret))
    return { path: 'holepunch', headStartMs, run: (attempt) => punched(punch, 'reconnect', secure, attempt) }
  })
}

/** What {@link PunchAnswerer} needs from the node. */
export interface PunchAnswererOptions {
  parts: StrategyParts
  /** This device's identity key: the responder key its peers ask under. */
  identityKey: Uint8Array
  /** Routes a punched connection (the requester writes the `reconnect` preamble). */
  accept(socket: Socket): void
  /** Presence epoch length (default `PRESENCE_EPOCH_MS`); tests shorten it. */
  epochMs?: number
  /** The poll schedule (default {@link reconnectPollInterval}); tests shorten it. */
  pollInterval?: (quietMs: number) => number
}

/**
 * How long a device waiting for a paired device's punch waits between polls, `quietMs` after that
 * device was unlinked or last asked (`spec/holepunch.md` §4.1).
 */
export function reconnectPollInterval(quietMs: number): number {
  return quietMs < RECONNECT_QUIET_AFTER_MS ? RECONNECT_POLL_INTERVAL_MS : RECONNECT_QUIET_POLL_INTERVAL_MS
}

/**
 * The responder side of reconnect punches: answers, for each device it is told to ({@link answer}),
 * the punch requests under that pair's key of the current epoch, polled on the
 * {@link reconnectPollInterval} schedule, moving to the next epoch's key at the boundary.
 */
export class PunchAnswerer {
  readonly #options: PunchAnswererOptions
  readonly #running = new Map<string, AbortController>()

  constructor(options: PunchAnswererOptions) {
    this.#options = options
  }

  /** Answers exactly the punches of `devices` from now on (starting and stopping as needed). */
  answer(devices: readonly PairedDevice[]): void {
    const wanted = new Map(devices.flatMap((d) => (d.presenceSecret ? [[d.deviceId, d] as const] : [])))
    for (const [deviceId, controller] of this.#running)
      if (!wanted.has(deviceId)) {
        controller.abort()
        this.#running.delete(deviceId)
      }
    if (this.#options.parts.stunServer === null) return
    for (const [deviceId, device] of wanted)
      if (!this.#running.has(deviceId)) {
        const controller = new AbortController()
        this.#running.set(deviceId, controller)
        void this.#answerDevice(device, device.presenceSecret!, controller.signal)
      }
  }

  /** The devices whose punches are answered now. */
  answering(): string[] {
    return [...this.#running.keys()]
  }

  /** Stops answering every device. */
  close(): void {
    this.answer([])
  }

  async #answerDevice(device: PairedDevice, secret: Uint8Array, signal: AbortSignal): Promise<void> {
    const { parts, identityKey, accept } = this.#options
    const epochMs = this.#options.epochMs ?? presenceConstants.PRESENCE_EPOCH_MS
    const schedule = this.#options.pollInterval ?? reconnectPollInterval
    // The schedule's clock runs across epochs: a new epoch's key is not a reason to poll fast again.
    let heardAt = Date.now()
    while (!signal.aborted) {
      const now = Date.now()
      const epoch = epochOf(now, epochMs)
      const untilNextEpoch = AbortSignal.timeout((epoch + 1) * epochMs - now)
      const context = reconnectContext(
        parts,
        secret,
        identityKey,
        epoch,
        AbortSignal.any([signal, untilNextEpoch]),
      )
      await respondToPunches(
        { ...context, pollIntervalMs: () => schedule(Date.now() - heardAt) },
        (salt) => presenceKeys(secret, salt),
        {
          onRequest: () => (heardAt = Date.now()),
          onConnection: ({ socket }) => accept(socket),
          onEnded: (error) => debug('%s gave up punching: %s', device.deviceId, error.message),
        },
      ).catch((err: Error) => debug('answering punches of %s: %s', device.deviceId, err.message))
    }
  }
}
