import type { Duplex } from 'node:stream'
import { openChannel, type SecureChannel } from '../channel/index.js'
import { utf8 } from '../crypto/index.js'
import type { Identity } from '../identity/index.js'
import type { AdvertAddress } from '../pairing/advert.js'
import {
  type Connected,
  type ConnectionPath,
  type Connector,
  connectFirst,
  dialedPath,
  tcpConnect,
} from '../pairing/connect.js'
import { CONNECT_TIMEOUT_MS } from '../pairing/constants.js'
import type { PairedDevice } from '../pairing/store.js'
import {
  type ConnectionPurpose,
  encodePreamble,
  lookupPresence,
  type PresenceDht,
  PresenceError,
  type PresenceRecord,
  presenceConstants,
} from '../presence/index.js'
import type { ContactBook } from './contacts.js'
import { reconnectPunches } from './punches.js'
import { reconnectConnector } from './relay.js'
import { PUNCH_HEAD_START_MS, raceAttempts, type StrategyParts } from './strategy.js'

const { LOOKUP_TIMEOUT_MS, RECONNECT_PROLOGUE } = presenceConstants

/** A TCP connect that writes the connection preamble of `purpose` first (`spec/presence.md` §4). */
export function preambleConnector(purpose: ConnectionPurpose, connect: Connector = tcpConnect): Connector {
  return async (address, signal) => {
    const duplex = await connect(address, signal)
    duplex.write(encodePreamble(purpose))
    return duplex
  }
}

/** The Noise IK options of a reconnect, either side (`spec/presence.md` §5). */
export function reconnectChannel(
  duplex: Duplex,
  identity: Identity,
  options: { role: 'initiator' | 'responder'; remote?: { staticKey: Uint8Array; identityKey: Uint8Array } },
  signal?: AbortSignal,
): Promise<SecureChannel> {
  return openChannel(duplex, {
    role: options.role,
    identity: identity.keyPair,
    staticKey: identity.noiseKeyPair,
    pattern: 'IK',
    prologue: utf8(RECONNECT_PROLOGUE),
    handshakeTimeoutMs: CONNECT_TIMEOUT_MS,
    ...(options.remote
      ? { remoteStaticKey: options.remote.staticKey, remoteIdentityKey: options.remote.identityKey }
      : {}),
    ...(signal ? { signal } : {}),
  })
}

/** What one reconnect attempt needs. */
export interface DialContext {
  identity: Identity
  dht: PresenceDht
  /** Last-known static keys and addresses: the fallback when no record is found. */
  contacts: ContactBook
  /** Counts records the lookup skipped as invalid. */
  onSkipped(count: number): void
  connect?: Connector
  /** Hole punching (`spec/holepunch.md` §4.1) when the node has a STUN server; none without. */
  punch?: StrategyParts
  /** Presence epoch length (default `PRESENCE_EPOCH_MS`); tests shorten it. */
  epochMs?: number
}

/** A secured reconnect channel and how it got there (`spec/holepunch.md` §6). */
export interface DialedChannel {
  channel: SecureChannel
  path: ConnectionPath
}

/**
 * One reconnect attempt to a paired device (`spec/presence.md` §6.1): looks up its presence record for
 * this device, then dials the record's addresses, its last-known ones and those stored at pairing,
 * happy-eyeballs style, and runs Noise IK against the record's static key (or, without a record, the
 * last-known one), expecting the device's identity key. When the record was found (the device runs) and
 * the node has a STUN server, two hole punches race the dialed addresses (`spec/holepunch.md` §6). A
 * device found nowhere is still dialed at its last-known and stored addresses. Rejects with
 * `PRESENCE_NOT_FOUND` (no record and no known static key), `PAIRING_UNREACHABLE`, or the handshake's
 * error. The contact it reached is remembered (not a punched one: the NAT's mapping of one connection).
 * With `direct`, relay addresses are left out (a relayed link's try for a direct path, `spec/relay.md`
 * §8.3).
 */
export async function dialDevice(
  context: DialContext,
  device: PairedDevice,
  signal: AbortSignal,
  options: { direct?: boolean } = {},
): Promise<DialedChannel> {
  const record = await findRecord(context, device, signal)
  const contact = context.contacts.get(device.deviceId)
  const staticKey = record?.staticKey ?? contact?.staticKey
  const all = merged([record?.addresses ?? [], contact?.addresses ?? [], device.addresses])
  const addresses = options.direct === true ? all.filter((a) => a.transport !== 'relay') : all
  if (staticKey === undefined || addresses.length === 0) throw PresenceError.notFound(device.deviceId)
  const remote = { staticKey, identityKey: device.identityKey }
  const secure = (duplex: Duplex, attempt: AbortSignal) =>
    reconnectChannel(duplex, context.identity, { role: 'initiator', remote }, attempt)
  const dial = (attempt: AbortSignal) =>
    connectFirst(
      addresses,
      context.connect ?? preambleConnector('reconnect', reconnectConnector(device)),
      secure,
      attempt,
    )
  const punches =
    record === null || context.punch === undefined
      ? []
      : reconnectPunches(context.punch, device, secure, signal, context.epochMs)
  const { channel, address, path }: Connected<SecureChannel> =
    punches.length === 0
      ? await dial(signal)
      : await raceAttempts(
          [{ path: 'direct', headStartMs: PUNCH_HEAD_START_MS, run: dial }, ...punches],
          signal,
        )
  if (path !== 'holepunch') await context.contacts.learn(device.deviceId, staticKey, address)
  return { channel, path: path ?? dialedPath(address) }
}

/** The device's record for us, or null (none, withdrawn, or a device paired before presence secrets). */
async function findRecord(
  context: DialContext,
  device: PairedDevice,
  signal: AbortSignal,
): Promise<PresenceRecord | null> {
  if (device.presenceSecret === undefined) return null
  const peer = { identityKey: device.identityKey, presenceSecret: device.presenceSecret }
  const controller = new AbortController()
  const abort = () => controller.abort()
  const timer = setTimeout(abort, LOOKUP_TIMEOUT_MS)
  signal.addEventListener('abort', abort, { once: true })
  try {
    const { record, skipped } = await lookupPresence(context.dht, context.identity.publicKey, peer, {
      signal: controller.signal,
      ...(context.epochMs === undefined ? {} : { epochMs: context.epochMs }),
    })
    if (skipped > 0) context.onSkipped(skipped)
    return record
  } finally {
    clearTimeout(timer)
    signal.removeEventListener('abort', abort)
  }
}

/** The addresses of every list in order, each once. */
function merged(lists: readonly (readonly AdvertAddress[])[]): AdvertAddress[] {
  const seen = new Set<string>()
  return lists.flat().filter((a) => {
    const key = `${a.host}|${a.port}`
    if (seen.has(key)) return false
    seen.add(key)
    return true
  })
}
