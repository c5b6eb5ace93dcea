import { networkInterfaces } from 'node:os'
import createDebug from 'debug'
import makeMdns from 'multicast-dns'
import { DEFAULT_INTERFACE_POLL_MS, isWildcard } from '../addresses/index.js'
import { MDNS_GROUP, MDNS_PORT } from './constants.js'
import { type DiscoveryTransmit, type Endpoint, LanDiscoveryCore, type LinkInterface } from './core.js'

const debug = createDebug('pairctl:discovery')

/** Options of {@link LanDiscovery.start}. */
export interface LanDiscoveryOptions {
  /** The node's DHT UDP port, announced to the LAN. */
  port: number
  /**
   * The interfaces to announce and listen on, read at start and every `rescanMs`; see
   * {@link discoveryInterfaces}.
   */
  interfaces: () => LinkInterface[]
  /** Called for each pairctl node found on a link (new, changed, or seen again after a minute). */
  onPeer: (peer: Endpoint) => void
  /** The mDNS port, 5353; tests pass another so that they never meet a real responder. */
  groupPort?: number
  /** How often the interfaces are read again (`spec/discovery.md` §6): {@link DEFAULT_INTERFACE_POLL_MS}. */
  rescanMs?: number
}

type Mdns = ReturnType<typeof makeMdns>

/** One interface: its core, its multicast-dns socket and its timer. */
interface Link {
  netmask: string
  core: LanDiscoveryCore
  mdns: Mdns
  timer: NodeJS.Timeout | null
}

/** A node found, and the interface address it was found on. */
interface Found {
  peer: Endpoint
  on: string
}

/**
 * LAN discovery on real sockets (`spec/discovery.md`): one {@link LanDiscoveryCore} and one
 * `multicast-dns` socket per interface, each bound to the mDNS port on the wildcard with the group
 * joined on its interface and its multicast sent out of it. Interfaces that appear later (Wi-Fi joined
 * after the daemon started) get their own, and those that go say goodbye and forget what they found. A
 * socket that cannot be bound leaves that interface without discovery (logged), never the node without a
 * network.
 */
export class LanDiscovery {
  readonly #options: LanDiscoveryOptions
  readonly #links = new Map<string, Link>()
  readonly #peers = new Map<string, Found>()
  readonly #rescan: NodeJS.Timeout
  #closed = false

  private constructor(options: LanDiscoveryOptions) {
    this.#options = options
    this.#rescan = setInterval(() => this.#update(), options.rescanMs ?? DEFAULT_INTERFACE_POLL_MS)
    this.#rescan.unref()
  }

  /** Starts announcing and querying on every interface `options.interfaces` returns. */
  static start(options: LanDiscoveryOptions): LanDiscovery {
    const discovery = new LanDiscovery(options)
    discovery.#update()
    return discovery
  }

  /** The pairctl nodes found so far (their DHT endpoints), goodbyes and gone interfaces removed. */
  peers(): Endpoint[] {
    return [...this.#peers.values()].map(({ peer }) => peer)
  }

  /** The interface addresses discovery runs on. */
  addresses(): string[] {
    return [...this.#links.keys()]
  }

  /** Sends each interface's goodbye, then closes the sockets. */
  async close(): Promise<void> {
    if (this.#closed) return
    this.#closed = true
    clearInterval(this.#rescan)
    await Promise.all([...this.#links.keys()].map((address) => this.#drop(address)))
  }

  /** Opens links on interfaces that appeared, drops those of interfaces gone or renumbered. */
  #update(): void {
    const wanted = new Map(this.#options.interfaces().map((link) => [link.address, link]))
    for (const [address, link] of this.#links)
      if (wanted.get(address)?.netmask !== link.netmask) void this.#drop(address)
    for (const [address, link] of wanted) {
      if (this.#links.has(address)) continue
      debug('discovery on %s', address)
      const opened = openLink(link, this.#options)
      this.#links.set(address, opened)
      this.#wire(opened)
    }
  }

  /** Says goodbye on one interface, closes its socket and forgets the nodes found there. */
  async #drop(address: string): Promise<void> {
    const link = this.#links.get(address)
    if (link === undefined) return
    this.#links.delete(address)
    for (const [key, found] of this.#peers) if (found.on === address) this.#peers.delete(key)
    if (link.timer !== null) clearTimeout(link.timer)
    link.core.close()
    await flushThenDestroy(link)
  }

  #wire(link: Link): void {
    link.mdns.on('packet', (packet, rinfo) => {
      if (this.#closed || !this.#isOpen(link)) return
      link.core.receive(packet, { host: rinfo.address, port: rinfo.port }, Date.now(), rinfo.size)
      this.#drive(link)
    })
    link.mdns.on('error', (err) => debug('mDNS on %s is off: %s', link.core.address, err.message))
    link.mdns.on('warning', (err) => debug('mDNS on %s: %s', link.core.address, err.message))
    this.#drive(link)
  }

  #isOpen(link: Link): boolean {
    return this.#links.get(link.core.address) === link
  }

  #drive(link: Link): void {
    if (this.#closed || !this.#isOpen(link)) return
    send(link)
    for (let event = link.core.nextEvent(); event !== null; event = link.core.nextEvent()) {
      const key = `${event.peer.host}:${event.peer.port}`
      debug('%s %s at %s', event.type, event.instance, key)
      if (event.type === 'gone') this.#peers.delete(key)
      else {
        this.#peers.set(key, { peer: event.peer, on: link.core.address })
        this.#options.onPeer(event.peer)
      }
    }
    if (link.timer !== null) clearTimeout(link.timer)
    const at = link.core.pollTimeout()
    link.timer = at === null ? null : setTimeout(() => this.#fire(link), Math.max(0, at - Date.now()))
    link.timer?.unref()
  }

  #fire(link: Link): void {
    link.timer = null
    link.core.handleTimeout(Date.now())
    this.#drive(link)
  }
}

function openLink(link: LinkInterface, options: LanDiscoveryOptions): Link {
  const groupPort = options.groupPort ?? MDNS_PORT
  const core = new LanDiscoveryCore({ link, port: options.port, groupPort, now: Date.now() })
  // Bound on the wildcard: a socket bound to the interface address would not receive the group's datagrams.
  const mdns = makeMdns({
    interface: link.address,
    bind: '0.0.0.0',
    port: groupPort,
    reuseAddr: true,
    ip: MDNS_GROUP,
  })
  return { netmask: link.netmask, core, mdns, timer: null }
}

function send(link: Link): void {
  for (let out = link.core.pollTransmit(); out !== null; out = link.core.pollTransmit())
    transmit(link, out, (err) => {
      if (err) debug('mDNS send on %s: %s', link.core.address, err.message)
    })
}

function transmit(link: Link, out: DiscoveryTransmit, done: (err: Error | null) => void): void {
  const to = out.to === null ? undefined : { address: out.to.host, port: out.to.port }
  if (out.packet.type === 'query') link.mdns.query(out.packet, to, done)
  else link.mdns.respond(out.packet, to, done)
}

/** The goodbye is queued by `core.close()`; sent before the socket closes. */
function flushThenDestroy(link: Link): Promise<void> {
  return new Promise((resolve) => {
    const out = link.core.pollTransmit()
    const destroy = () => link.mdns.destroy(() => resolve())
    if (out === null) destroy()
    else transmit(link, out, destroy)
  })
}

/**
 * The interfaces discovery runs on for a node bound to `host`: every non-internal IPv4 interface for
 * a wildcard bind, the interface that holds `host` otherwise (the loopback one only when asked, as a
 * loopback-bound node is a test or a demo, and a LAN cannot reach it anyway).
 */
export function discoveryInterfaces(host: string): LinkInterface[] {
  const all = Object.values(networkInterfaces()).flatMap((entries) => entries ?? [])
  const ipv4 = all.filter((entry) => entry.family === 'IPv4')
  const chosen = isWildcard(host)
    ? ipv4.filter((entry) => !entry.internal)
    : ipv4.filter((entry) => entry.address === host)
  return chosen.map(({ address, netmask }) => ({ address, netmask }))
}
