import { EventEmitter } from 'node:events'
import { hostname } from 'node:os'
import { setTimeout as sleep } from 'node:timers/promises'
import createDebug from 'debug'
import { AsyncQueue } from '../control/async-queue.js'
import type {
  DeviceInfo,
  MessageInfo,
  PairingProgress,
  PeerStatus,
  Status,
  TransferInfo,
} from '../control/protocol.js'
import { hasCode } from '../errors.js'
import { sweepTemporaries } from '../files.js'
import {
  type Identity,
  instanceDir,
  isRunning,
  loadOrCreateIdentity,
  lockInstance,
  pairctlHome,
} from '../identity/index.js'
import type { ConnectionPath } from '../pairing/connect.js'
import { PairingError } from '../pairing/errors.js'
import { type PairedDevice, PairedDeviceStore } from '../pairing/store.js'
import { DeviceStreams, Messages, Transfers } from '../transfer/index.js'
import { deviceInfo, findDevice } from './devices.js'
import { openDht } from './dht.js'
import type { PairingEngine } from './engine.js'
import type { LinkCounters } from './links.js'
import { noDhtNode, startNetwork } from './network.js'
import {
  DEFAULT_JOIN_TIMEOUT_MS,
  NodeError,
  type NodeOptions,
  type ResolvedNodeOptions,
  resolveNodeOptions,
} from './options.js'
import { type PairingRequest, PairingRun } from './pairing-run.js'
import { Resources } from './resources.js'

const debug = createDebug('pairctl:node')
/** Pause between lookups of a code not advertised yet. */
const JOIN_RETRY_MS = 1_000

/** Events of a {@link PairctlNode} (`spec/control.md` §5). */
export interface NodeEventMap {
  pairing: [{ sessionId: string; progress: PairingProgress }]
  'device-added': [DeviceInfo]
  'device-removed': [DeviceInfo]
  /** An authenticated link to a paired device opened (`spec/presence.md` §6). */
  'device-online': [PeerStatus]
  /** The link to a paired device closed; the node keeps trying to reach it. */
  'device-offline': [PeerStatus]
  /** A text message from a paired device (`spec/transfer.md` §3). */
  message: [MessageInfo]
  /** A file transfer changed state or made progress (`spec/transfer.md` §6). */
  transfer: [TransferInfo]
  /** A paired device offered files (accepted at once, or waiting for `acceptTransfer`). */
  'incoming-transfer': [TransferInfo]
}
/** One node event, as yielded by {@link PairctlNode.events}. */
export type NodeEvent = {
  [K in keyof NodeEventMap]: { type: K; data: NodeEventMap[K][0] }
}[keyof NodeEventMap]

/**
 * A running pairctl node: identity, paired-device store and instance lock, composed with the DHT, address
 * discovery and pairing listener. Create with {@link createNode}; release everything with `close()`.
 */
export class PairctlNode extends EventEmitter<NodeEventMap> {
  private closing: Promise<void> | null = null
  private readonly subscribers = new Set<AsyncQueue<NodeEvent>>()
  private readonly runs = new Set<PairingRun>()
  private readonly closeController = new AbortController()

  /** @internal use {@link createNode} */
  constructor(
    readonly identity: Identity,
    readonly dir: string,
    readonly instance: string,
    readonly name: string,
    readonly options: ResolvedNodeOptions,
    private readonly store: PairedDeviceStore,
    private readonly pairing: PairingEngine,
    private readonly resources: Resources,
    private readonly transfer: { messages: Messages; transfers: Transfers },
  ) {
    super()
    resources.defer('event streams', () => {
      for (const queue of this.subscribers) queue.end()
    })
    this.followLinks()
    this.followTransfers()
  }

  /** Relays acknowledged messages and transfer events as node events. */
  private followTransfers(): void {
    this.transfer.messages.on('message', ({ deviceId, text }) => {
      const name = this.store.get(deviceId)?.name ?? deviceId
      this.publish('message', { deviceId, name, text, receivedAt: new Date().toISOString() })
    })
    this.transfer.transfers.on('changed', (info) => this.publish('transfer', info))
    this.transfer.transfers.on('incoming', (info) => this.publish('incoming-transfer', info))
  }

  /** Relays the links' online, offline and message events as node events. */
  private followLinks(): void {
    const links = this.pairing.links
    const peer = (deviceId: string) => this.store.get(deviceId)
    links.on('online', (deviceId) => {
      const device = peer(deviceId)
      if (device !== undefined) this.publish('device-online', this.peerStatus(device))
    })
    links.on('offline', (deviceId) => {
      const device = peer(deviceId)
      if (device !== undefined) this.publish('device-offline', this.peerStatus(device))
    })
    links.on('removed', (device) => this.publish('device-removed', deviceInfo(device)))
    links.on('message', ({ deviceId, text, receivedAt }) => {
      const name = peer(deviceId)?.name ?? deviceId
      this.publish('message', { deviceId, name, text, receivedAt: new Date(receivedAt).toISOString() })
    })
  }

  private peerStatus(device: PairedDevice): PeerStatus {
    const lastSeen = this.pairing.links.lastSeen(device.deviceId)
    return {
      ...deviceInfo(device),
      online: this.pairing.links.isOnline(device.deviceId),
      lastSeen: lastSeen === null ? null : new Date(lastSeen).toISOString(),
      ...linkPath(this.pairing.links.pathOf(device.deviceId)),
    }
  }

  get deviceId(): string {
    return this.identity.deviceId
  }

  /** Every paired device, oldest first. */
  devices(): DeviceInfo[] {
    return this.store.list().map(deviceInfo)
  }

  /**
   * Forgets the device `text` names (ID, ID prefix or name) and tells it, so it removes this one too
   * (`spec/presence.md` §6.4); returns what was removed.
   */
  async unpair(text: string): Promise<DeviceInfo> {
    this.assertOpen()
    const device = findDevice(this.store.list(), text)
    await this.store.remove(device.deviceId)
    await this.pairing.links.unpair(device.deviceId)
    const info = deviceInfo(device)
    this.publish('device-removed', info)
    return info
  }

  /**
   * Sends `text` to the paired device `device` names (ID, ID prefix or name) over its link
   * (`spec/transfer.md` §3); `PRESENCE_OFFLINE` when it is not online. Resolves once the device
   * acknowledged it; a link lost before that is retried over the next one, else `MESSAGE_UNDELIVERED`.
   */
  async send(device: string, text: string): Promise<DeviceInfo> {
    this.assertOpen()
    const found = findDevice(this.store.list(), device)
    await this.transfer.messages.send(found.deviceId, text)
    return deviceInfo(found)
  }

  /**
   * Offers files and directories to the paired device `device` names (`spec/transfer.md` §5): hashes
   * them, persists the offer and resolves with it; it is sent when the device is linked and resumes
   * across lost links and restarts. Follow it with {@link PairctlNode.followTransfer}.
   */
  async offerFiles(device: string, paths: readonly string[]): Promise<TransferInfo> {
    this.assertOpen()
    const found = findDevice(this.store.list(), device)
    return this.transfer.transfers.send(found.deviceId, paths)
  }

  /**
   * Sends files and directories as one offer and yields its progress (state, bytes, rate, ETA) until it
   * ends (`done`, `rejected`, `cancelled` or `failed`). Aborting `signal` cancels the transfer.
   */
  async *sendFiles(
    device: string,
    paths: readonly string[],
    options: { signal?: AbortSignal } = {},
  ): AsyncGenerator<TransferInfo> {
    const info = await this.offerFiles(device, paths)
    const onAbort = () => void this.cancelTransfer(info.id).catch(() => {})
    if (options.signal?.aborted) onAbort()
    options.signal?.addEventListener('abort', onAbort, { once: true })
    try {
      yield* this.followTransfer(info.id)
    } finally {
      options.signal?.removeEventListener('abort', onAbort)
    }
  }

  /** One transfer's changes from now until its final state. */
  followTransfer(id: string): AsyncIterableIterator<TransferInfo> {
    return this.transfer.transfers.follow(id)
  }

  /** Every transfer this instance knows (active, paused and finished), oldest first. */
  transfers(): TransferInfo[] {
    return this.transfer.transfers.list()
  }

  /** Accepts an offer waiting in the inbox (or retries a paused incoming transfer). */
  acceptTransfer(id: string): Promise<TransferInfo> {
    return this.transfer.transfers.accept(id)
  }

  /** Rejects an offer (or abandons an incoming transfer; its partial files are deleted). */
  rejectTransfer(id: string): Promise<TransferInfo> {
    return this.transfer.transfers.reject(id)
  }

  /** Cancels an outgoing transfer. */
  cancelTransfer(id: string): Promise<TransferInfo> {
    return this.transfer.transfers.cancel(id)
  }

  /** What the links refused or skipped so far (`spec/presence.md` §8). */
  linkCounters(): LinkCounters {
    return { ...this.pairing.links.counters }
  }

  /** The paired devices with their online state (`spec/control.md` §4.1). */
  peers(): PeerStatus[] {
    return this.store.list().map((device) => this.peerStatus(device))
  }

  /**
   * Generates a pairing code and waits for a peer (`spec/control.md` §4.3): iterate the returned run for
   * progress (`code`, `advertised`, `peer-connected`, `verifying`, [`sas`], `paired` | `failed`).
   */
  generate(request: PairingRequest = {}): PairingRun {
    return this.startRun(request, (run) => this.pairing.generate(run, request))
  }

  /**
   * Joins the pairing `code` names; progress as for {@link PairctlNode.generate}. Keeps looking for the
   * code's advertisement until `request.timeoutMs` (default {@link DEFAULT_JOIN_TIMEOUT_MS}) has passed,
   * so a joiner may start before the other device has advertised. With no other DHT node known, fails at
   * once with `NODE_NO_PEERS` instead of `PAIRING_NOT_FOUND`, unless LAN discovery runs and may still
   * find one (then at the deadline).
   */
  join(code: string, request: PairingRequest = {}): PairingRun {
    const timeoutMs = request.timeoutMs ?? DEFAULT_JOIN_TIMEOUT_MS
    const attempt = { ...request, timeoutMs: undefined }
    return this.startRun(request, (run) => this.joinUntil(run, code, timeoutMs, attempt))
  }

  private async joinUntil(
    run: PairingRun,
    code: string,
    timeoutMs: number,
    attempt: PairingRequest,
  ): Promise<PairedDevice> {
    const deadline = Date.now() + timeoutMs
    const timer = setTimeout(() => run.cancel(joinTimedOut(timeoutMs)), timeoutMs)
    try {
      for (;;) {
        try {
          return await this.pairing.join(run, code, attempt)
        } catch (err) {
          if (!hasCode(err, 'PAIRING_NOT_FOUND') || run.signal.aborted) throw err
          const { routingTableSize, lan } = this.pairing.status()
          // With no bootstrap node, LAN discovery may yet find the advertiser (spec/discovery.md §5):
          // keep trying until the deadline.
          const lanOnly = lan !== null && this.options.bootstrap.length === 0
          if (routingTableSize === 0 && (!lanOnly || Date.now() + JOIN_RETRY_MS >= deadline))
            throw noDhtNode(this.options.bootstrap, 'the code cannot be looked up', err, lanOnly)
          // The last wait ends at the deadline, where the timer ends the run: a join looks for N seconds.
          const left = deadline - Date.now()
          if (left <= 0) throw err
          await sleep(Math.min(JOIN_RETRY_MS, left), undefined, { signal: run.signal }).catch(() => undefined)
          if (run.signal.aborted) throw run.signal.reason
        }
      }
    } finally {
      clearTimeout(timer)
    }
  }

  private startRun(request: PairingRequest, body: (run: PairingRun) => Promise<PairedDevice>): PairingRun {
    const run = new PairingRun((r, progress) => this.publish('pairing', { sessionId: r.sessionId, progress }))
    const unlink = linkSignals(run, [request.signal, this.closeController.signal])
    this.runs.add(run)
    Promise.resolve()
      .then(() => {
        this.assertOpen()
        return body(run)
      })
      .then((device) => this.paired(run, device))
      .catch((err) => run.fail(err))
      .finally(() => {
        unlink()
        this.runs.delete(run)
      })
    return run
  }

  /** `lib/pairing` has already stored the device when its result resolves. */
  private paired(run: PairingRun, device: PairedDevice): void {
    const info = deviceInfo(device)
    run.succeed(info)
    this.publish('device-added', info)
    // The peer runs now, so its presence record is fresh: link at once (`spec/presence.md` §6.1).
    this.pairing.links.watch(device.deviceId)
  }

  /** A snapshot for `pairctl status` (`spec/control.md` §4.1). */
  status(version: string): Status {
    const { routingTableSize, lan, ...network } = this.pairing.status()
    return {
      deviceId: this.deviceId,
      instance: this.instance,
      name: this.name,
      pid: process.pid,
      version,
      ...network,
      dht: { routingTableSize, bootstrap: this.options.bootstrap, lan },
      paired: this.peers(),
      downloads: this.transfer.transfers.downloads,
    }
  }

  /** Every node event from now until `close()` or until the loop breaks. */
  events(): AsyncIterableIterator<NodeEvent> {
    const queue = new AsyncQueue<NodeEvent>(() => this.subscribers.delete(queue))
    if (this.closing === null) this.subscribers.add(queue)
    else queue.end()
    return queue
  }

  /** Emits `type` to listeners and to every {@link PairctlNode.events} iterator. */
  protected publish<K extends keyof NodeEventMap>(type: K, data: NodeEventMap[K][0]): void {
    for (const queue of this.subscribers) queue.push({ type, data } as NodeEvent)
    ;(this.emit as (type: K, data: NodeEventMap[K][0]) => boolean)(type, data)
  }

  /** Withdraws adverts, removes port mappings, closes every socket and timer, releases the lock. */
  close(): Promise<void> {
    this.closing ??= this.shutdown()
    return this.closing
  }

  private async shutdown(): Promise<void> {
    this.closeController.abort(NodeError.closed())
    await Promise.allSettled([...this.runs].map((run) => run.result))
    await this.resources.closeAll()
    debug('node %s closed', this.deviceId)
  }

  get closed(): boolean {
    return this.closing !== null
  }

  private assertOpen(): void {
    if (this.closing !== null) throw NodeError.closed()
  }
}

/**
 * Starts a node for one instance (`spec/control.md` §1): loads or creates its identity, takes the
 * instance lock (`IDENTITY_INSTANCE_LOCKED` if another process owns it), opens the paired-device store,
 * and brings up the network parts. On any failure everything acquired so far is released. Aborting
 * `options.signal` fails a creation in progress with `NODE_CLOSED` and closes a created node.
 */
export async function createNode(options: NodeOptions = {}): Promise<PairctlNode> {
  const resolved = resolveNodeOptions(options)
  const instance = resolved.instance ?? 'default'
  const dir = resolved.dir ?? instanceDir(instance, resolved.home ?? pairctlHome())
  const resources = new Resources()
  try {
    const identity = await loadOrCreateIdentity(dir)
    if (resolved.lock) {
      const lock = await lockInstance(dir)
      resources.defer('instance lock', () => lock.release())
      await sweepTemporaries(dir, isRunning)
    }
    const store = await PairedDeviceStore.open(dir)
    const deviceInfo = {
      name: resolved.deviceInfo?.name ?? hostname(),
      type: resolved.deviceInfo?.type ?? 'desktop',
    }
    const transfer = await openTransfers(dir, resolved, resources)
    const engine = await startNetwork({
      options: resolved,
      dir,
      identity,
      store,
      deviceInfo,
      resources,
      openDht,
      tenants: transfer.streams.tenants,
    })
    if (resolved.signal?.aborted) throw NodeError.closed()
    const node = new PairctlNode(
      identity,
      dir,
      instance,
      deviceInfo.name,
      resolved,
      store,
      engine,
      resources,
      transfer,
    )
    closeOnAbort(node, resolved.signal, resources)
    return node
  } catch (err) {
    await resources.closeAll()
    throw err
  }
}

/** Streams, messages and transfers, ready before the first link so no request of a peer goes unhandled. */
async function openTransfers(dir: string, options: ResolvedNodeOptions, resources: Resources) {
  const streams = new DeviceStreams()
  const messages = new Messages(streams)
  const transfers = new Transfers({ dir, streams, downloads: options.downloads, policy: options.receive })
  await transfers.load()
  resources.defer('transfers', () => transfers.close())
  return { streams, messages, transfers }
}

function closeOnAbort(node: PairctlNode, signal: AbortSignal | undefined, resources: Resources): void {
  if (signal === undefined) return
  const onAbort = () => void node.close()
  signal.addEventListener('abort', onAbort, { once: true })
  resources.defer('abort signal', () => signal.removeEventListener('abort', onAbort))
}

function joinTimedOut(timeoutMs: number): PairingError {
  return new PairingError(
    'PAIRING_TIMEOUT',
    `no pairing completed within ${Math.round(timeoutMs / 1000)} s; check the code and that the other device is still waiting`,
  )
}

/** Cancels `run` when any of `signals` aborts; returns the function that stops watching. */
function linkSignals(run: PairingRun, signals: (AbortSignal | undefined)[]): () => void {
  const watched = signals.filter((signal): signal is AbortSignal => signal !== undefined)
  const onAbort = (event: Event) => run.cancel((event.target as AbortSignal).reason)
  for (const signal of watched) {
    if (signal.aborted) run.cancel(signal.reason)
    else signal.addEventListener('abort', onAbort, { once: true })
  }
  return () => {
    for (const signal of watched) signal.removeEventListener('abort', onAbort)
  }
}

/** The status fields of an open link's path: `path`, and `relayed` when it runs through a relay. */
function linkPath(path: ConnectionPath | undefined): Pick<PeerStatus, 'path' | 'relayed'> {
  if (path === undefined) return {}
  return path === 'relay' ? { path, relayed: true } : { path }
}
