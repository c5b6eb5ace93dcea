import { EventEmitter } from 'node:events'
import { isIPv4 } from 'node:net'
import { type Announcement, listenForAnnouncements } from './announcement.js'
import { ANNOUNCEMENT_PORT, DEFAULT_LIFETIME_S, GATEWAY_PORT } from './constants.js'
import { EpochTracker } from './epoch.js'
import { PortmapError } from './errors.js'
import { LeaseTable } from './lease.js'
import { NatPmpClient } from './natpmp-client.js'
import { PcpClient } from './pcp-client.js'
import { defaultGateway } from './route.js'
import type { Grant, Mapping, MappingMethod, MapRequest, MethodDriver, ResolvedMapRequest } from './types.js'
import { UpnpClient, type UpnpOptions } from './upnp-client.js'

/** Timers the mapper renews with; tests pass a virtual clock. */
export interface Clock {
  now(): number
  setTimeout(fn: () => void, ms: number): unknown
  clearTimeout(handle: unknown): void
}

/** Options of {@link PortMapper.create}. */
export interface PortMapperOptions {
  /** Gateway IPv4 address; default: the default route's gateway from `/proc/net/route`. */
  gateway?: string
  /** Methods to try, in order; default `['pcp', 'natpmp', 'upnp']` (spec/portmap.md §2). */
  protocols?: MappingMethod[]
  /** Aborting closes the mapper (deleting its mappings). */
  signal?: AbortSignal
  /** NAT-PMP / PCP server port; default 5351. Tests use a loopback fake. */
  gatewayPort?: number
  /** UPnP specifics: SSDP target, a fixed description URL, mapping description. */
  upnp?: Omit<UpnpOptions, 'gateway'>
  clock?: Clock
  /**
   * Longest time between two renewals of a mapping, ms; default {@link CHECK_INTERVAL_MS}. Each renewal
   * checks the gateway still holds it (its epoch for NAT-PMP/PCP, the re-added rule for UPnP) and makes
   * it again after a router restart (spec/portmap.md §6). Infinity: renew at half the lifetime only.
   */
  checkIntervalMs?: number
  /**
   * Port to hear the gateway's NAT-PMP / PCP announcements on (a restart, a new external address),
   * which renew every mapping at once (spec/portmap.md §6); default 5350, null: do not listen.
   */
  announcementPort?: number | null
}

/** Default {@link PortMapperOptions.checkIntervalMs}: a restarted router is noticed within a minute. */
export const CHECK_INTERVAL_MS = 60_000

/** Events: `renewed` after each successful renewal, `lost` when a mapping could not be kept. */
export interface PortMapperEvents {
  renewed: [mapping: Mapping]
  lost: [mapping: Mapping, error: PortmapError]
}

interface Entry {
  driver: MethodDriver
  request: ResolvedMapRequest
  mapping: Mapping
}

const REAL_CLOCK: Clock = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (handle) => clearTimeout(handle as NodeJS.Timeout),
}

/**
 * Maps ports on the local gateway with PCP, NAT-PMP or UPnP IGD (spec/portmap.md), renews every
 * mapping at half its lifetime, and deletes them all on {@link close}. The first method that works is
 * kept for the mapper's life.
 */
export class PortMapper extends EventEmitter<PortMapperEvents> {
  private readonly entries = new Map<string, Entry>()
  private readonly leases: LeaseTable<string>
  private readonly epochs = new EpochTracker()
  private readonly closing = new AbortController()
  private selected: MethodDriver | undefined
  private timer: unknown
  private closed: Promise<void> | undefined
  private stopListening: (() => void) | null = null
  /** Announcements heard from the gateway (spec/portmap.md §6). */
  readonly counters = { announcements: 0 }

  private constructor(
    private readonly drivers: MethodDriver[],
    private readonly clock: Clock,
    checkIntervalMs: number,
  ) {
    super()
    this.leases = new LeaseTable(checkIntervalMs)
  }

  /**
   * Resolves the gateway (PORTMAP_NO_GATEWAY if none) and builds the drivers; sends nothing yet.
   * PORTMAP_INVALID_ARGUMENT for a gateway that is not IPv4 or an empty `protocols`.
   */
  static async create(options: PortMapperOptions = {}): Promise<PortMapper> {
    if (options.signal?.aborted) throw PortmapError.aborted('signal already aborted')
    const host = options.gateway ?? (await defaultGateway())
    if (!isIPv4(host)) throw PortmapError.invalidArgument(`gateway must be an IPv4 address: ${host}`)
    const mapper = new PortMapper(
      makeDrivers(host, options),
      options.clock ?? REAL_CLOCK,
      options.checkIntervalMs ?? CHECK_INTERVAL_MS,
    )
    options.signal?.addEventListener('abort', () => void mapper.close().catch(() => {}), { once: true })
    if (options.announcementPort !== null) await mapper.listen(host, options)
    return mapper
  }

  private async listen(host: string, options: PortMapperOptions): Promise<void> {
    const gateway = { host, port: options.gatewayPort ?? GATEWAY_PORT }
    const port = options.announcementPort ?? ANNOUNCEMENT_PORT
    const stop = await listenForAnnouncements({
      gateway,
      port,
      onAnnouncement: (a) => this.onAnnouncement(a),
    })
    if (this.closing.signal.aborted) stop?.()
    else this.stopListening = stop
  }

  /**
   * The gateway announced itself: it restarted (and lost every mapping) or its external address
   * changed. Either way every mapping is renewed now rather than at the next check (spec §6).
   */
  private onAnnouncement(announcement: Announcement): void {
    if (this.closing.signal.aborted) return
    this.counters.announcements++
    const now = this.clock.now()
    this.epochs.observe(announcement.epoch, now)
    this.leases.expediteAll(now)
    this.schedule()
  }

  /** Maps (or re-maps) `protocol`/`internalPort`. Rejects with a PortmapError. */
  async map(request: MapRequest): Promise<Mapping> {
    const req = resolveRequest(request)
    const { driver, value: grant } = await this.withDriver((d) => d.map(req, this.closing.signal))
    if (this.closing.signal.aborted) {
      await driver.unmap(grant).catch(() => {})
      throw PortmapError.aborted('port mapper closed')
    }
    return this.record(driver, req, grant)
  }

  /** The gateway's external IPv4 address, as the working method reports it (reserved ones included). */
  async externalAddress(): Promise<string> {
    return (await this.withDriver((d) => d.externalAddress(this.closing.signal))).value
  }

  /** Live mappings. */
  mappings(): Mapping[] {
    return [...this.entries.values()].map((e) => e.mapping)
  }

  /**
   * Stops renewals and deletes every mapping made; rejects with the first delete error, after trying
   * all. Idempotent: later calls (and the `signal`'s abort) share the first call's outcome.
   */
  close(): Promise<void> {
    this.closed ??= this.deleteAll()
    return this.closed
  }

  private async deleteAll(): Promise<void> {
    this.closing.abort()
    this.stopListening?.()
    this.clock.clearTimeout(this.timer)
    const entries = [...this.entries.values()]
    this.entries.clear()
    const results = await Promise.allSettled(entries.map((e) => e.driver.unmap(grantOf(e))))
    const failed = results.find((r) => r.status === 'rejected')
    if (failed) throw failed.reason
  }

  private async withDriver<T>(
    run: (d: MethodDriver) => Promise<T>,
  ): Promise<{ driver: MethodDriver; value: T }> {
    if (this.closing.signal.aborted) throw PortmapError.aborted('port mapper closed')
    const candidates = this.selected ? [this.selected] : this.drivers
    const errors: PortmapError[] = []
    for (const driver of candidates) {
      try {
        const value = await run(driver)
        this.selected = driver
        return { driver, value }
      } catch (err) {
        errors.push(asPortmapError(err))
        if (this.closing.signal.aborted) break
      }
    }
    throw errors.length === 1 ? errors[0]! : PortmapError.unavailable(errors)
  }

  private record(driver: MethodDriver, request: ResolvedMapRequest, grant: Grant): Mapping {
    const key = `${grant.protocol}:${grant.internalPort}`
    const now = this.clock.now()
    // A gateway that rebooted has forgotten every other mapping: renew them all now (spec §6).
    if (grant.epoch !== undefined && this.epochs.observe(grant.epoch, now)) this.leases.expediteAll(now)
    const expiresAt = this.leases.grant(key, now, grant.lifetimeS)
    const mapping: Mapping = { ...pickMapping(grant), method: driver.method, expiresAt }
    this.entries.set(key, { driver, request: { ...request, externalPort: grant.externalPort }, mapping })
    this.schedule()
    return mapping
  }

  private schedule(): void {
    this.clock.clearTimeout(this.timer)
    const next = this.leases.pollTimeout()
    if (next === null || this.closing.signal.aborted) return
    this.timer = this.clock.setTimeout(() => this.onTimer(), Math.max(0, next - this.clock.now()))
  }

  private onTimer(): void {
    for (const key of this.leases.handleTimeout(this.clock.now())) void this.renew(key)
    this.schedule()
  }

  private async renew(key: string): Promise<void> {
    const entry = this.entries.get(key)
    if (!entry) return
    try {
      const grant = await entry.driver.map(entry.request, this.closing.signal)
      if (this.entries.get(key) !== entry) return
      this.emit('renewed', this.record(entry.driver, entry.request, grant))
    } catch (err) {
      if (this.closing.signal.aborted || this.entries.get(key) !== entry) return
      this.onRenewalFailed(key, entry, asPortmapError(err))
    }
  }

  private onRenewalFailed(key: string, entry: Entry, error: PortmapError): void {
    if (this.leases.renewalFailed(key, this.clock.now()) === 'lost') {
      this.entries.delete(key)
      this.emit('lost', entry.mapping, error)
    }
    this.schedule()
  }
}

function makeDrivers(host: string, options: PortMapperOptions): MethodDriver[] {
  const endpoint = { host, port: options.gatewayPort ?? GATEWAY_PORT }
  const make: Record<MappingMethod, () => MethodDriver> = {
    pcp: () => new PcpClient(endpoint),
    natpmp: () => new NatPmpClient(endpoint),
    upnp: () => new UpnpClient({ ...options.upnp, gateway: host }),
  }
  const methods = options.protocols ?? ['pcp', 'natpmp', 'upnp']
  if (methods.length === 0) throw PortmapError.invalidArgument('protocols must not be empty')
  return methods.map((m) => make[m]())
}

function resolveRequest(request: MapRequest): ResolvedMapRequest {
  const { protocol, internalPort } = request
  const externalPort = request.externalPort ?? internalPort
  const lifetimeS = request.lifetimeS ?? DEFAULT_LIFETIME_S
  if (protocol !== 'tcp' && protocol !== 'udp')
    throw PortmapError.invalidArgument(`protocol ${String(protocol)}`)
  for (const [name, port] of [
    ['internalPort', internalPort],
    ['externalPort', externalPort],
  ] as const) {
    if (!Number.isInteger(port) || port < 1 || port > 65535)
      throw PortmapError.invalidArgument(`${name} ${port}`)
  }
  if (!Number.isInteger(lifetimeS) || lifetimeS < 1 || lifetimeS > 0xffffffff) {
    throw PortmapError.invalidArgument(`lifetimeS ${lifetimeS}`)
  }
  return { protocol, internalPort, externalPort, lifetimeS }
}

function pickMapping(grant: Omit<Mapping, 'method' | 'expiresAt'>): Omit<Mapping, 'method' | 'expiresAt'> {
  const { protocol, internalPort, externalHost, externalPort } = grant
  return { protocol, internalPort, externalHost, externalPort }
}

function grantOf(entry: Entry): Grant {
  return { ...pickMapping(entry.mapping), lifetimeS: entry.request.lifetimeS }
}

function asPortmapError(err: unknown): PortmapError {
  if (err instanceof PortmapError) return err
  return new PortmapError('PORTMAP_INTERNAL', err instanceof Error ? err.message : String(err), {
    cause: err,
  })
}
