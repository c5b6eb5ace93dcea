import { networkInterfaces } from 'node:os'
import createDebug from 'debug'
import makeMdns from 'multicast-dns'
import { isWildcard } from '../addresses/index.js'
import { MDNS_GROUP, MDNS_PORT } from './constants.js'
import { type DiscoveryTransmit, type Endpoint, LanDiscoveryCore, type LinkInterface } from './core.js'

const debug = createDebug('pairctl:discovery')

/** Options of {@link LanDiscovery.start}. */
export interface LanDiscoveryOptions {
  /** The node's DHT UDP port, announced to the LAN. */
  port: number
  /** The interfaces to announce and listen on; see {@link discoveryInterfaces}. */
  interfaces: LinkInterface[]
  /** Called for each pairctl node found on a link (new, changed, or seen again after a minute). */
  onPeer: (peer: Endpoint) => void
  /** The mDNS port, 5353; tests pass another so that they never meet a real responder. */
  groupPort?: number
}

type Mdns = ReturnType<typeof makeMdns>

/** One interface: its core, its multicast-dns socket and its timer. */
interface Link {
  core: LanDiscoveryCore
  mdns: Mdns
  timer: NodeJS.Timeout | null
}

/**
 * LAN discovery on real sockets (`spec/discovery.md`): one {@link LanDiscoveryCore} and one
 * `multicast-dns` socket per interface, each bound to the mDNS port on the wildcard with the group
 * joined on its interface and its multicast sent out of it. A socket that cannot be bound leaves that
 * interface without discovery (logged), never the node without a network.
 */
export class LanDiscovery {
  readonly #links: Link[]
  readonly #peers = new Map<string, Endpoint>()
  #closed = false

  private constructor(links: Link[]) {
    this.#links = links
  }

  /** Starts announcing and querying on every interface of `options.interfaces`. */
  static start(options: LanDiscoveryOptions): LanDiscovery {
    const links = options.interfaces.map((link) => openLink(link, options))
    const discovery = new LanDiscovery(links)
    for (const link of links) discovery.#wire(link, options)
    return discovery
  }

  /** The pairctl nodes found so far (their DHT endpoints), goodbyes removed. */
  peers(): Endpoint[] {
    return [...this.#peers.values()]
  }

  /** The interface addresses discovery runs on. */
  addresses(): string[] {
    return this.#links.map(({ core }) => core.address)
  }

  /** Sends each interface's goodbye, then closes the sockets. */
  async close(): Promise<void> {
    if (this.#closed) return
    this.#closed = true
    for (const link of this.#links) {
      if (link.timer !== null) clearTimeout(link.timer)
      link.core.close()
    }
    await Promise.all(this.#links.map((link) => flushThenDestroy(link)))
  }

  #wire(link: Link, options: LanDiscoveryOptions): void {
    link.mdns.on('packet', (packet, rinfo) => {
      if (this.#closed) return
      link.core.receive(packet, { host: rinfo.address, port: rinfo.port }, Date.now(), rinfo.size)
      this.#drive(link, options)
    })
    link.mdns.on('error', (err) => debug('mDNS on %s is off: %s', link.core.address, err.message))
    link.mdns.on('warning', (err) => debug('mDNS on %s: %s', link.core.address, err.message))
    this.#drive(link, options)
  }

  #drive(link: Link, options: LanDiscoveryOptions): void {
    if (this.#closed) return
    send(link)
    for (let event = link.core.nextEvent(); event !== null; event = link.core.nextEvent()) {
      const key = `${event.peer.host}:${event.peer.port}`
      debug('%s %s at %s', event.type, event.instance, key)
      if (event.type === 'gone') this.#peers.delete(key)
      else {
        this.#peers.set(key, event.peer)
        options.onPeer(event.peer)
      }
    }
    if (link.timer !== null) clearTimeout(link.timer)
    const at = link.core.pollTimeout()
    link.timer =
      at === null ? null : setTimeout(() => this.#fire(link, options), Math.max(0, at - Date.now()))
    link.timer?.unref()
  }

  #fire(link: Link, options: LanDiscoveryOptions): void {
    link.timer = null
    link.core.handleTimeout(Date.now())
    this.#drive(link, options)
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
  return { core, mdns, timer: null }
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
