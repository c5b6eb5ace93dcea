import type { Duplex } from 'node:stream'
import { openChannel, type SecureChannel } from '../channel/index.js'
import { utf8 } from '../crypto/index.js'
import type { Identity } from '../identity/index.js'
import type { AdvertAddress } from '../pairing/advert.js'
import { type Connector, connectFirst, tcpConnect } from '../pairing/connect.js'
import { CONNECT_TIMEOUT_MS } from '../pairing/constants.js'
import type { PairedDevice } from '../pairing/store.js'
import {
  type ConnectionPurpose,
  encodePreamble,
  lookupPresence,
  type PresenceDht,
  PresenceError,
  presenceConstants,
} from '../presence/index.js'
import { reconnectConnector, relayedChannels } from './relay.js'

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
  /** Counts records the lookup skipped as invalid. */
  onSkipped(count: number): void
  connect?: Connector
}

/**
 * One reconnect attempt to a paired device (`spec/presence.md` §6.1): looks up its presence record, then
 * dials its addresses (the record's first, then those stored at pairing) happy-eyeballs style and runs
 * Noise IK against the record's static key, expecting the device's identity key. Rejects with
 * `PRESENCE_NOT_FOUND` (no live record), `PAIRING_UNREACHABLE`, or the handshake's error.
 */
export async function dialDevice(
  context: DialContext,
  device: PairedDevice,
  signal: AbortSignal,
): Promise<SecureChannel> {
  const { record, skipped } = await lookupBounded(context.dht, device.identityKey, signal)
  if (skipped > 0) context.onSkipped(skipped)
  if (record === null) throw PresenceError.notFound(device.deviceId)
  const remote = { staticKey: record.staticKey, identityKey: device.identityKey }
  const { channel, address } = await connectFirst(
    merged(record.addresses, device.addresses),
    context.connect ?? preambleConnector('reconnect', reconnectConnector(device)),
    (duplex, attempt) => reconnectChannel(duplex, context.identity, { role: 'initiator', remote }, attempt),
    signal,
  )
  if (address.transport === 'relay') relayedChannels.add(channel)
  return channel
}

async function lookupBounded(dht: PresenceDht, identityKey: Uint8Array, signal: AbortSignal) {
  const controller = new AbortController()
  const abort = () => controller.abort()
  const timer = setTimeout(abort, LOOKUP_TIMEOUT_MS)
  signal.addEventListener('abort', abort, { once: true })
  try {
    return await lookupPresence(dht, identityKey, controller.signal)
  } finally {
    clearTimeout(timer)
    signal.removeEventListener('abort', abort)
  }
}

/** `first` then the addresses of `then` not already in it. */
function merged(first: readonly AdvertAddress[], then: readonly AdvertAddress[]): AdvertAddress[] {
  const seen = new Set(first.map((a) => `${a.host}|${a.port}`))
  return [...first, ...then.filter((a) => !seen.has(`${a.host}|${a.port}`))]
}
