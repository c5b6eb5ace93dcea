/**
 * The sans-I/O address book (`spec/addresses.md` §4): every address this node could truthfully
 * advertise, with where it came from, deduplicated, expiring, and filtered per peer scope. The
 * interface list and the clock are passed in; {@link AddressManager} feeds them from the OS.
 * @module
 */
import type { NetworkInterfaceInfo } from 'node:os'
import { classifyIp, REACHABLE_SCOPES } from './classify.js'
import type { AddressScope } from './constants.js'
import { AddressError } from './errors.js'
import { canonicalIp, type IpFamily, ipFamily, unmapIpv4 } from './ip.js'

/** Where an address was learned (§4.1). `upnp`/`natpmp`/`pcp` come from lib/portmap. */
export type AddressSource = 'interface' | 'stun' | 'upnp' | 'natpmp' | 'pcp' | 'observed'

/** The transport an address is for. */
export type AddressProtocol = 'tcp' | 'udp'

/** An address offered to the book (from an interface, STUN, a port mapping, or a DHT peer's view). */
export interface AddressCandidate {
  host: string
  port: number
  protocol: AddressProtocol
  source: AddressSource
  /** Absolute expiry (ms, same clock as `now`); port mappings and observations expire. */
  expiresAt?: number
}

/** An address in the book: canonical host, classification, and every source that vouched for it. */
export interface Address {
  host: string
  port: number
  protocol: AddressProtocol
  family: IpFamily
  scope: AddressScope
  sources: AddressSource[]
  /** Latest expiry over its sources; undefined when one source never expires (an interface). */
  expiresAt?: number
}

/** A change to report (`nextEvent`). */
export type AddressEvent = { type: 'added' | 'removed'; address: Address }

/** The ports this node really listens on (§4.2): interface addresses are paired with these. */
export interface BoundPorts {
  tcp?: number
  udp?: number
}

/** Node's `os.networkInterfaces()` shape, injectable for tests. */
export type InterfaceList = NodeJS.Dict<NetworkInterfaceInfo[]>

interface Entry {
  address: Omit<Address, 'sources' | 'expiresAt'>
  /** Expiry per source; `Infinity` = no expiry. */
  sources: Map<AddressSource, number>
}

/** Preference between sources when ordering (§4.4): an address our socket is bound to is surest. */
const SOURCE_RANK: Record<AddressSource, number> = {
  interface: 0,
  upnp: 1,
  natpmp: 1,
  pcp: 1,
  stun: 2,
  observed: 3,
}

/** The address book. Poll-style: {@link nextEvent}, {@link pollTimeout}, {@link handleTimeout}. */
export class AddressBook {
  readonly #entries = new Map<string, Entry>()
  readonly #events: AddressEvent[] = []
  #ports: BoundPorts

  constructor(ports: BoundPorts) {
    this.#ports = checkPorts(ports)
  }

  /** The bound ports; changing them re-pairs the interface addresses on the next update. */
  get ports(): BoundPorts {
    return { ...this.#ports }
  }

  /** Adds or refreshes a candidate; throws `ADDRESSES_INVALID` for port 0, non-IP or unusable hosts. */
  add(candidate: AddressCandidate): void {
    const address = normalise(candidate)
    const key = entryKey(address)
    const entry = this.#entries.get(key) ?? { address, sources: new Map() }
    const isNew = !this.#entries.has(key)
    entry.sources.set(candidate.source, candidate.expiresAt ?? Number.POSITIVE_INFINITY)
    this.#entries.set(key, entry)
    if (isNew) this.#events.push({ type: 'added', address: toAddress(entry) })
  }

  /** Withdraws one source's claim on an address (the address goes when no source is left). */
  remove(candidate: Omit<AddressCandidate, 'expiresAt'>): void {
    const key = entryKey(normalise(candidate))
    const entry = this.#entries.get(key)
    if (!entry?.sources.delete(candidate.source) || entry.sources.size > 0) return
    this.#entries.delete(key)
    this.#events.push({ type: 'removed', address: toAddress(entry) })
  }

  /** Replaces every `interface` address with those of `interfaces` × the bound ports (§5). */
  updateInterfaces(interfaces: InterfaceList): void {
    const fresh = interfaceCandidates(interfaces, this.#ports)
    const keep = new Set(fresh.map((c) => entryKey(normalise(c))))
    for (const entry of [...this.#entries.values()]) {
      if (entry.sources.has('interface') && !keep.has(entryKey(entry.address))) {
        this.remove({ ...entry.address, source: 'interface' })
      }
    }
    for (const candidate of fresh) this.add(candidate)
  }

  /** Sets the real bound ports (e.g. after a rebind) and re-pairs with `interfaces`. */
  setPorts(ports: BoundPorts, interfaces: InterfaceList): void {
    this.#ports = checkPorts(ports)
    this.updateInterfaces(interfaces)
  }

  /** The earliest expiry, or `null` when nothing expires. */
  pollTimeout(): number | null {
    let earliest = Number.POSITIVE_INFINITY
    for (const entry of this.#entries.values())
      for (const at of entry.sources.values()) earliest = Math.min(earliest, at)
    return Number.isFinite(earliest) ? earliest : null
  }

  /** Drops every source whose expiry is at or before `now`. */
  handleTimeout(now: number): void {
    for (const entry of [...this.#entries.values()]) {
      for (const [source, at] of [...entry.sources]) if (at <= now) this.remove({ ...entry.address, source })
    }
  }

  /** The next change, or `null`. */
  nextEvent(): AddressEvent | null {
    return this.#events.shift() ?? null
  }

  /** Every address, best first (§4.4), with its sources (for `status`). */
  list(): Address[] {
    return [...this.#entries.values()].map(toAddress).sort(compareAddresses)
  }

  /** What to tell a peer seen at `peerHost` (§3): only scopes it can reach, its own scope first. */
  forPeer(peerHost: string): Address[] {
    const peerScope = classifyIp(peerHost)
    if (peerScope === 'unusable') return []
    const reachable = REACHABLE_SCOPES[peerScope]
    const rank = (a: Address) => (a.scope === peerScope ? 0 : 1)
    return this.list()
      .filter((a) => reachable.includes(a.scope))
      .sort((a, b) => rank(a) - rank(b))
  }

  /**
   * The set for a DHT advertisement (§3.1): everything but loopback and link-local (useless to a
   * remote peer), unless that leaves nothing, in which case loopback (local demos on one host).
   */
  advertisable(): Address[] {
    const all = this.list()
    const remote = all.filter((a) => a.scope !== 'loopback' && a.scope !== 'link-local')
    return remote.length > 0 ? remote : all.filter((a) => a.scope === 'loopback')
  }
}

function checkPorts(ports: BoundPorts): BoundPorts {
  for (const port of [ports.tcp, ports.udp]) {
    if (port !== undefined && !validPort(port))
      throw AddressError.invalid(`bound port ${port} is not 1..65535`)
  }
  return { ...ports }
}

function validPort(port: number): boolean {
  return Number.isInteger(port) && port > 0 && port <= 65535
}

function normalise(candidate: Omit<AddressCandidate, 'expiresAt'>): Entry['address'] {
  if (!validPort(candidate.port)) throw AddressError.invalid(`port ${candidate.port} cannot be advertised`)
  const host = unmapIpv4(candidate.host)
  const family = ipFamily(host)
  if (!family) throw AddressError.invalid(`${candidate.host} is not an IP address`)
  const scope = classifyIp(host)
  if (scope === 'unusable') throw AddressError.invalid(`${candidate.host} is not a unicast address`)
  return { host: canonicalIp(host), port: candidate.port, protocol: candidate.protocol, family, scope }
}

function entryKey(address: Pick<Address, 'host' | 'port' | 'protocol'>): string {
  return `${address.protocol} ${address.host} ${address.port}`
}

function toAddress(entry: Entry): Address {
  const sources = [...entry.sources.keys()].sort((a, b) => SOURCE_RANK[a] - SOURCE_RANK[b])
  const latest = Math.max(...entry.sources.values())
  const address: Address = { ...entry.address, sources }
  if (Number.isFinite(latest)) address.expiresAt = latest
  return address
}

const SCOPE_ORDER: Record<AddressScope, number> = {
  public: 0,
  cgnat: 1,
  private: 2,
  'link-local': 3,
  loopback: 4,
  unusable: 5,
}

/** Wider scope first, then surer source, then IPv4 before IPv6, then text (stable). */
function compareAddresses(a: Address, b: Address): number {
  return (
    SCOPE_ORDER[a.scope] - SCOPE_ORDER[b.scope] ||
    SOURCE_RANK[a.sources[0]!] - SOURCE_RANK[b.sources[0]!] ||
    a.family.localeCompare(b.family) ||
    entryKey(a).localeCompare(entryKey(b))
  )
}

/** Interface addresses × bound ports; unusable ones (e.g. none) are skipped, never thrown. */
export function interfaceCandidates(interfaces: InterfaceList, ports: BoundPorts): AddressCandidate[] {
  const hosts = Object.values(interfaces)
    .flatMap((list) => list ?? [])
    .map((info) => info.address)
    .filter((host) => ipFamily(host) !== null && classifyIp(host) !== 'unusable')
  const protocols = (['tcp', 'udp'] as const).filter((p) => ports[p] !== undefined)
  return hosts.flatMap((host) =>
    protocols.map((protocol) => ({ host, port: ports[protocol]!, protocol, source: 'interface' as const })),
  )
}
