import { EventEmitter } from 'node:events'
import type { Duplex } from 'node:stream'
import createDebug from 'debug'
import type { MessageBytes, SecureChannel } from '../channel/index.js'
import type { Identity } from '../identity/index.js'
import type { ConnectionPath } from '../pairing/connect.js'
import { MAX_PENDING_CONNECTIONS, MAX_PENDING_PER_SOURCE } from '../pairing/constants.js'
import { PendingConnections, sourceOf } from '../pairing/pending.js'
import type { PairedDevice, PairedDeviceStore } from '../pairing/store.js'
import {
  Backoff,
  challengerWins,
  decodeLinkMessage,
  encodeLinkMessage,
  type LinkMessage,
  PresenceError,
  presenceConstants,
} from '../presence/index.js'
import { type DialContext, type DialedChannel, dialDevice, reconnectChannel } from './dial.js'
import { isRelayedAddress } from './relay.js'

const debug = createDebug('pairctl:node:links')
const { LINK_HELLO_TIMEOUT_MS, LINK_STABLE_MS, PRESENCE_VERSION: v } = presenceConstants
/** How long `close()` lets links finish their authenticated close before it cuts them. */
const CLOSE_GRACE_MS = 1_000
/** How often a relayed link tries the device's direct addresses (`spec/relay.md` §8.3). */
export const UPGRADE_INTERVAL_MS = 30_000
/** How long a relayed link replaced by a direct one stays open (`spec/relay.md` §8.3). */
const RETIRE_GRACE_MS = 2_000

/** A message received from a paired device. */
export interface ReceivedMessage {
  deviceId: string
  text: string
  /** Milliseconds since the Unix epoch, this node's clock. */
  receivedAt: number
}

/** Events of {@link DeviceLinks}. */
export interface LinkEventMap {
  online: [string]
  offline: [string]
  /** A relayed link was replaced by a direct one (`spec/relay.md` §8.3); the device stayed online. */
  upgraded: [string]
  message: [ReceivedMessage]
  /** The peer removed the pairing (its `unpair` or its refusal); this side removed it too. */
  removed: [PairedDevice]
}

/** Counters of what links refused or skipped (`spec/presence.md` §8), for debugging and tests. */
export interface LinkCounters {
  /** Reconnects refused after the handshake: the peer is not a paired device. */
  refused: number
  /** Reconnects (either side) whose peer sent no valid `hello` in time. */
  noHello: number
  /** Duplicate links closed by the tie-break rule. */
  duplicates: number
  /** Presence records skipped by lookups as invalid. */
  badRecords: number
  /** Dial attempts that failed. */
  dialFailures: number
  /** Relayed links replaced by a direct one (`spec/relay.md` §8.3). */
  upgrades: number
}

interface Link {
  channel: SecureChannel
  /** How it got there: a direct link is preferred to a relayed one, and `status` reports it. */
  path: ConnectionPath
  /** Device ID of the side that dialed it. */
  dialer: string
  /** When it was adopted: a link that lasted {@link LINK_STABLE_MS} resets the backoff. */
  since: number
  /** What rides on the link besides link messages (`spec/transfer.md` §2). */
  tenant?: LinkTenant
  /** A relayed link's next try for a direct path, and the try in flight. */
  upgrade?: { timer: NodeJS.Timeout | undefined; attempt: AbortController | undefined }
}

/** What rides on a kept link besides its CBOR link messages (streams, `spec/transfer.md` §2). */
export interface LinkTenant {
  /** Offered every message first: true when it took it, false to leave it to the link. */
  receive(message: Uint8Array): boolean
  /** The link closed. */
  close(): void
}

/**
 * Creates the tenant of a link just kept: `send` writes one message on it (whole or in pieces), `cut`
 * closes it.
 */
export type LinkTenantFactory = (
  deviceId: string,
  link: { send(message: MessageBytes): Promise<void>; cut(): void },
) => LinkTenant

interface Dialer {
  backoff: Backoff
  timer: NodeJS.Timeout | undefined
  attempt: AbortController | undefined
}

type Messages = AsyncIterator<Uint8Array>

/**
 * The authenticated links of a node to its paired devices (`spec/presence.md` §6): dials each paired
 * device that is not linked (presence lookup, then Noise IK), retrying with bounded jittered backoff;
 * accepts reconnects from paired devices only; keeps exactly one link per device (tie-break rule); and
 * reports devices going online and offline. A device is online while a link to it is open.
 */
export class DeviceLinks extends EventEmitter<LinkEventMap> {
  readonly counters: LinkCounters = {
    refused: 0,
    noHello: 0,
    duplicates: 0,
    badRecords: 0,
    dialFailures: 0,
    upgrades: 0,
  }
  readonly #identity: Identity
  readonly #store: PairedDeviceStore
  readonly #dial: DialContext
  readonly #links = new Map<string, Link>()
  readonly #lastSeen = new Map<string, number>()
  readonly #dialers = new Map<string, Dialer>()
  readonly #unlinked = new Set<SecureChannel>()
  readonly #attempts = new Set<Promise<void>>()
  /** Reconnect handshakes not finished yet: bounded like pairing's (`spec/pairing.md` §4.1). */
  readonly #handshaking = new PendingConnections<Duplex>(MAX_PENDING_CONNECTIONS, MAX_PENDING_PER_SOURCE)
  #closed = false
  #tenants: LinkTenantFactory | undefined

  readonly #peersChanged: () => void
  readonly #upgradeIntervalMs: number

  constructor(options: {
    identity: Identity
    store: PairedDeviceStore
    dial: Omit<DialContext, 'onSkipped'>
    /** Called after a device was added to or removed from the links (the presence publisher follows). */
    peersChanged?: () => void
    /** Default {@link UPGRADE_INTERVAL_MS}; tests shorten it. */
    upgradeIntervalMs?: number
  }) {
    super()
    this.#upgradeIntervalMs = options.upgradeIntervalMs ?? UPGRADE_INTERVAL_MS
    this.#identity = options.identity
    this.#store = options.store
    this.#dial = { ...options.dial, onSkipped: (count) => (this.counters.badRecords += count) }
    this.#peersChanged = options.peersChanged ?? (() => {})
  }

  /** Sets what rides on every link kept from now on (`spec/transfer.md` §2). */
  carry(tenants: LinkTenantFactory): void {
    this.#tenants = tenants
  }

  /** Starts dialing every paired device, at once; drops contacts of devices unpaired meanwhile. */
  start(): void {
    const devices = this.#store.list()
    void this.#dial.contacts.retain(devices.map((device) => device.deviceId))
    for (const device of devices) this.#schedule(device.deviceId, this.#dialer(device.deviceId), 0)
  }

  /**
   * Links a newly paired device (`spec/presence.md` §6.1). Both devices get here at the same moment, so
   * the one with the lower device ID dials at once and the other only after a first backoff delay, by
   * which time it is usually linked already: two links that the tie-break would have to settle are rare.
   */
  watch(deviceId: string): void {
    const dialer = this.#dialer(deviceId)
    dialer.backoff.reset()
    const delay = this.#identity.deviceId < deviceId ? 0 : dialer.backoff.next(Math.random())
    this.#schedule(deviceId, dialer, delay)
    this.#peersChanged()
  }

  /**
   * This side removed the pairing (`spec/presence.md` §6.4): tells the device with an `unpair` link
   * message if it is linked (otherwise it learns at next contact, when it is refused), then forgets it.
   * The message goes on every channel to the device, a retired duplicate's included: just after two
   * links crossed, the peer may still hold as its link the one this side retired, and read only that.
   * Call after removing the device from the store.
   */
  async unpair(deviceId: string): Promise<void> {
    const current = this.#links.get(deviceId)?.channel
    const retired = [...this.#unlinked].filter((channel) => channel.remoteDeviceId === deviceId)
    const unpair = encodeLinkMessage({ v, type: 'unpair' })
    const channels = current === undefined ? retired : [current, ...retired]
    await Promise.all(channels.map((channel) => channel.send(unpair).catch(() => {})))
    await this.forget(deviceId)
  }

  /** Stops dialing an unpaired device, closes its link and drops its contact. */
  async forget(deviceId: string): Promise<void> {
    const dialer = this.#dialers.get(deviceId)
    this.#dialers.delete(deviceId)
    clearTimeout(dialer?.timer)
    dialer?.attempt?.abort()
    this.#links.get(deviceId)?.channel.close()
    this.#lastSeen.delete(deviceId)
    this.#peersChanged()
    await this.#dial.contacts.forget(deviceId)
  }

  /** True while a link to the device is open. */
  isOnline(deviceId: string): boolean {
    return this.#links.has(deviceId)
  }

  /** How the device's open link got there (`spec/holepunch.md` §6); undefined while offline. */
  pathOf(deviceId: string): ConnectionPath | undefined {
    return this.#links.get(deviceId)?.path
  }

  /** True while the device's link runs through a relay (`spec/relay.md` §8.2). */
  isRelayed(deviceId: string): boolean {
    return this.pathOf(deviceId) === 'relay'
  }

  /** Now while online, else when its last link closed; null if not linked since this node started. */
  lastSeen(deviceId: string, now = Date.now()): number | null {
    return this.#links.has(deviceId) ? now : (this.#lastSeen.get(deviceId) ?? null)
  }

  /** Sends a text message over the device's link (`PRESENCE_OFFLINE` without one). */
  async send(deviceId: string, text: string): Promise<void> {
    const link = this.#links.get(deviceId)
    if (link === undefined) throw PresenceError.offline(deviceId)
    await link.channel.send(encodeLinkMessage({ v, type: 'text', text }))
  }

  /**
   * Responder side of a reconnect: a connection whose preamble said `reconnect`, from `address`, that
   * got here by `path` (the listener knows whether it came through a mapping or a punch; by default a
   * relayed circuit's address says `relay`, any other `direct`).
   */
  accept(socket: Duplex, address: string, path = defaultPath(address)): void {
    // Unauthenticated peers cost a handshake each: at most 64, 4 per source, the oldest evicted, so a
    // flood of stuck handshakes displaces itself and never the next paired device.
    if (this.#closed) return void socket.destroy()
    this.#handshaking.admit(socket, sourceOf(socket, address))
    reconnectChannel(socket, this.#identity, { role: 'responder' })
      .then((channel) => this.#admit(channel, path))
      .catch((err) => debug('reconnect from %s failed: %s', address, err.message))
      .finally(() => this.#handshaking.settle(socket))
  }

  /** Stops dialing and closes every link (authenticated close, cut after a short grace). */
  async close(): Promise<void> {
    this.#closed = true
    for (const dialer of this.#dialers.values()) {
      clearTimeout(dialer.timer)
      dialer.attempt?.abort()
    }
    for (const link of this.#links.values()) {
      clearTimeout(link.upgrade?.timer)
      link.upgrade?.attempt?.abort()
    }
    await Promise.allSettled(this.#attempts)
    const channels = [...[...this.#links.values()].map((link) => link.channel), ...this.#unlinked]
    for (const channel of channels) channel.close()
    const grace = new Promise((resolve) => setTimeout(resolve, CLOSE_GRACE_MS).unref())
    await Promise.race([Promise.allSettled(channels.map((channel) => channel.closed)), grace])
    for (const channel of channels) channel.destroy()
  }

  /**
   * Checks the verified peer is paired, then waits for its `hello` before counting the link live, and
   * answers with its own `hello`, which is what lets the initiator count the link live (§5).
   */
  async #admit(channel: SecureChannel, path: ConnectionPath): Promise<void> {
    const peer = channel.remoteDeviceId
    if (this.#closed) return channel.destroy()
    if (this.#store.get(peer) === undefined) {
      this.counters.refused++
      debug('refusing reconnect: %s', PresenceError.notPaired(peer).message)
      return this.#refuse(channel, 'PRESENCE_NOT_PAIRED')
    }
    this.#unlinked.add(channel)
    const messages = channel.messages()[Symbol.asyncIterator]()
    const hello = await firstMessage(messages)
    this.#unlinked.delete(channel)
    if (hello?.type !== 'hello') {
      this.counters.noHello++
      return this.#refuse(channel, 'PRESENCE_PROTOCOL')
    }
    await this.#dial.contacts.learn(peer, channel.remoteStaticKey)
    channel.send(encodeLinkMessage({ v, type: 'hello' })).catch(() => {})
    this.#adopt(peer, { channel, path, dialer: peer, since: Date.now() }, messages)
  }

  #refuse(channel: SecureChannel, code: 'PRESENCE_NOT_PAIRED' | 'PRESENCE_PROTOCOL'): void {
    channel.send(encodeLinkMessage({ v, type: 'error', code })).catch(() => {})
    channel.close()
  }

  /**
   * The authenticated peer says it no longer holds the pairing (`unpair`, or `PRESENCE_NOT_PAIRED` at
   * the next contact): remove it here too, so neither side keeps trying (`spec/presence.md` §6.4).
   */
  #removedByPeer(deviceId: string): void {
    const device = this.#store.get(deviceId)
    if (device === undefined) return
    debug('%s removed the pairing: removing it here too', deviceId)
    this.#store
      .remove(deviceId)
      .catch((err) => debug('removing %s failed: %s', deviceId, err.message))
      .finally(() => this.emit('removed', device))
    void this.forget(deviceId)
  }

  #dialer(deviceId: string): Dialer {
    let dialer = this.#dialers.get(deviceId)
    if (dialer === undefined) {
      dialer = { backoff: new Backoff(), timer: undefined, attempt: undefined }
      this.#dialers.set(deviceId, dialer)
    }
    return dialer
  }

  #schedule(deviceId: string, dialer: Dialer, delayMs: number): void {
    if (this.#closed || this.#links.has(deviceId) || dialer.attempt !== undefined) return
    if (this.#dialers.get(deviceId) !== dialer) return
    clearTimeout(dialer.timer)
    dialer.timer = setTimeout(() => this.#attempt(deviceId, dialer), delayMs)
  }

  /** Dials again after the next backoff delay (a failed attempt, or a link that closed). */
  #retry(deviceId: string, dialer: Dialer): void {
    this.#schedule(deviceId, dialer, dialer.backoff.next(Math.random()))
  }

  #attempt(deviceId: string, dialer: Dialer): void {
    const device = this.#store.get(deviceId)
    if (device === undefined || this.#closed || this.#links.has(deviceId)) return
    const controller = new AbortController()
    dialer.attempt = controller
    const attempt = dialDevice(this.#dial, device, controller.signal)
      .then((dialed) => this.#dialed(deviceId, dialed, controller.signal))
      .catch((err) => {
        this.counters.dialFailures++
        debug('dialing %s failed: %s', deviceId, err.message)
      })
      .finally(() => {
        dialer.attempt = undefined
        this.#attempts.delete(attempt)
        if (!this.#links.has(deviceId)) this.#retry(deviceId, dialer)
      })
    this.#attempts.add(attempt)
  }

  /**
   * Our `hello` proves the link live to the responder (IK's first message alone can be replayed); the
   * link is live for us only when the responder's first transport message is its `hello` (IK completes
   * before the responder decides whether it still knows us). Anything else fails the attempt.
   */
  async #dialed(deviceId: string, { channel, path }: DialedChannel, signal: AbortSignal): Promise<void> {
    if (this.#closed) return channel.destroy()
    this.#unlinked.add(channel)
    channel.send(encodeLinkMessage({ v, type: 'hello' })).catch(() => {})
    const messages = channel.messages()[Symbol.asyncIterator]()
    const first = await firstMessage(messages, signal)
    this.#unlinked.delete(channel)
    if (first?.type === 'hello')
      return this.#adopt(
        deviceId,
        { channel, path, dialer: this.#identity.deviceId, since: Date.now() },
        messages,
      )
    channel.close()
    if (first?.type === 'unpair' || (first?.type === 'error' && first.code === 'PRESENCE_NOT_PAIRED')) {
      this.counters.refused++
      this.#removedByPeer(deviceId)
      throw PresenceError.notPaired(this.#identity.deviceId)
    }
    this.counters.noHello++
    throw PresenceError.protocol(`expected hello, got ${first === null ? 'nothing' : first.type}`)
  }

  /** Keeps `link` unless the link already kept is preferred ({@link #replaces}); reads it until it closes. */
  #adopt(deviceId: string, link: Link, messages: Messages): void {
    const current = this.#links.get(deviceId)
    if (this.#closed || this.#store.get(deviceId) === undefined) {
      link.channel.close()
      return
    }
    if (current !== undefined && !this.#replaces(deviceId, current, link)) {
      this.counters.duplicates++
      this.#retire(link.channel)
      return
    }
    const upgrade = current?.path === 'relay' && link.path !== 'relay'
    this.#links.set(deviceId, link)
    if (link.path === 'relay') this.#scheduleUpgrade(deviceId, link)
    link.tenant = this.#tenants?.(deviceId, {
      send: (message) => link.channel.send(message),
      cut: () => link.channel.close(),
    })
    if (upgrade) {
      this.counters.upgrades++
      this.#retire(current.channel)
      this.emit('upgraded', deviceId)
    } else if (current !== undefined) {
      this.counters.duplicates++
      this.#retire(current.channel)
    } else this.emit('online', deviceId)
    void this.#read(deviceId, link, messages)
  }

  /**
   * Which of two live links to one device survives (`spec/presence.md` §6.2): a direct link beats a
   * relayed one (`spec/relay.md` §8.3), and both ends know which is relayed, so both keep the same;
   * otherwise the tie-break by device ID.
   */
  #replaces(deviceId: string, current: Link, challenger: Link): boolean {
    const relayed = current.path === 'relay'
    if (relayed !== (challenger.path === 'relay')) return relayed
    return challengerWins(this.#identity.deviceId, deviceId, current.dialer, challenger.dialer)
  }

  /**
   * A link that loses (a duplicate, or a relayed link replaced by a direct one) closes after
   * {@link RETIRE_GRACE_MS}, not at once: the peer, which may still hold it as its link, then adopts the
   * winner before it sees the loser close, so neither side reports the device offline in between (a send
   * then failed with `PRESENCE_OFFLINE`), and what was in flight on a link we were reading still arrives.
   */
  #retire(channel: SecureChannel): void {
    this.#unlinked.add(channel)
    const timer = setTimeout(() => {
      this.#unlinked.delete(channel)
      channel.close()
    }, RETIRE_GRACE_MS)
    timer.unref()
  }

  /** A relayed link tries the device's direct addresses every {@link UPGRADE_INTERVAL_MS} while it is kept. */
  #scheduleUpgrade(deviceId: string, link: Link): void {
    if (this.#closed || this.#links.get(deviceId) !== link) return
    link.upgrade ??= { timer: undefined, attempt: undefined }
    link.upgrade.timer = setTimeout(() => this.#upgrade(deviceId, link), this.#upgradeIntervalMs)
  }

  /**
   * One try for a direct path: dials the device without its relay addresses; a link that comes up is
   * adopted and replaces the relayed one, which closes after it (messages wait for an acknowledgement
   * and transfers resume on the new link, `spec/transfer.md` §3, §6.3).
   */
  #upgrade(deviceId: string, link: Link): void {
    const device = this.#store.get(deviceId)
    if (device === undefined || this.#closed || this.#links.get(deviceId) !== link) return
    const controller = new AbortController()
    link.upgrade!.attempt = controller
    const attempt = dialDevice(this.#dial, device, controller.signal, { direct: true })
      .then((dialed) => {
        // The connection lives on after the relayed link closes: its end must not abort it.
        link.upgrade!.attempt = undefined
        return this.#dialed(deviceId, dialed, controller.signal)
      })
      .catch((err) => debug('no direct path to %s yet: %s', deviceId, err.message))
      .finally(() => {
        link.upgrade!.attempt = undefined
        this.#attempts.delete(attempt)
        this.#scheduleUpgrade(deviceId, link)
      })
    this.#attempts.add(attempt)
  }

  async #read(deviceId: string, link: Link, messages: Messages): Promise<void> {
    try {
      for (let next = await messages.next(); next.done !== true; next = await messages.next())
        this.#receive(deviceId, link, next.value)
    } catch (err) {
      debug('link to %s ended: %s', deviceId, (err as Error).message)
    }
    link.tenant?.close()
    clearTimeout(link.upgrade?.timer)
    link.upgrade?.attempt?.abort()
    if (this.#links.get(deviceId) !== link) return
    this.#links.delete(deviceId)
    const now = Date.now()
    this.#lastSeen.set(deviceId, now)
    if (this.#closed) return
    this.emit('offline', deviceId)
    const dialer = this.#dialers.get(deviceId)
    // Only a link that lasted resets the backoff: one the peer closes at once must not cause a redial storm.
    if (now - link.since >= LINK_STABLE_MS) dialer?.backoff.reset()
    if (dialer !== undefined) this.#retry(deviceId, dialer)
  }

  #receive(deviceId: string, link: Link, bytes: Uint8Array): void {
    if (link.tenant?.receive(bytes) === true) return
    let message: LinkMessage
    try {
      message = decodeLinkMessage(bytes)
    } catch (err) {
      debug('bad link message from %s: %s', deviceId, (err as Error).message)
      link.channel.close()
      return
    }
    if (message.type === 'text')
      this.emit('message', { deviceId, text: message.text, receivedAt: Date.now() })
    else if (message.type === 'unpair') this.#removedByPeer(deviceId)
    else if (message.type === 'error') link.channel.close()
  }
}

function defaultPath(address: string): ConnectionPath {
  return isRelayedAddress(address) ? 'relay' : 'direct'
}

/** The first link message, or null on close, error, bad bytes, abort or {@link LINK_HELLO_TIMEOUT_MS}. */
async function firstMessage(messages: Messages, signal?: AbortSignal): Promise<LinkMessage | null> {
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<null>((resolve) => {
    timer = setTimeout(() => resolve(null), LINK_HELLO_TIMEOUT_MS)
    signal?.addEventListener('abort', () => resolve(null), { once: true })
  })
  try {
    const next = await Promise.race([messages.next().catch(() => null), timeout])
    if (next === null || next.done === true) return null
    return decodeLinkMessage(next.value)
  } catch {
    return null
  } finally {
    clearTimeout(timer)
  }
}
