import type { Socket } from 'node:net'
import { type NetworkInterfaceInfo, networkInterfaces } from 'node:os'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { classifyIp } from '../addresses/classify.js'
import {
  type Address,
  AddressManager,
  dhtScope,
  endpointHost,
  type InterfaceList,
  isWildcard,
  publishableAddresses,
} from '../addresses/index.js'
import type { AddressInfo } from '../control/protocol.js'
import type { Ed25519KeyPair } from '../crypto/index.js'
import { isLoopback } from '../dht/address.js'
import { discoveryInterfaces, LanDiscovery } from '../discovery/index.js'
import { hasCode } from '../errors.js'
import { learnMapping } from '../holepunch/index.js'
import type { Identity } from '../identity/index.js'
import type { AdvertAddress } from '../pairing/advert.js'
import type { ConnectionPath } from '../pairing/connect.js'
import {
  type DeviceInfo,
  generatePairing,
  joinPairing,
  openPairingChannel,
  type PairedDevice,
  type PairedDeviceStore,
  type PairingDht,
  PairingDispatcher,
  PairingError,
  type PairingSession,
  UsedCodeStore,
} from '../pairing/index.js'
import {
  type PresenceDht,
  type PresenceDhtRecord,
  type PresencePeer,
  type PresencePublication,
  PresencePublisher,
} from '../presence/index.js'
import { parseRelayAddress } from '../relay/index.js'
import { ContactBook } from './contacts.js'
import { ROUTING_TABLE_FILE } from './dht.js'
import type { NetworkStatus, PairingEngine } from './engine.js'
import { DeviceLinks, type LinkTenantFactory } from './links.js'
import { listenTcp, type PairingListener } from './listener.js'
import { type NatProbe, parseHostPort, probeNat } from './nat.js'
import { NodeError, type ResolvedNodeOptions } from './options.js'
import type { PairingRequest, PairingRun } from './pairing-run.js'
import { mapPorts, mapsFrom } from './portmap.js'
import { toProgress } from './progress.js'
import { PunchAnswerer } from './punches.js'
import { isRelayedAddress, NodeRelay } from './relay.js'
import type { Resources } from './resources.js'
import { routeConnections, routeSocket } from './router.js'
import {
  acceptedPath,
  answerPairingPunches,
  type StrategyParts,
  pairingConnector as strategyConnector,
} from './strategy.js'

/**
 * How long a first advert waits for the router's port mapping: long enough for PCP, NAT-PMP or UPnP to
 * answer on a LAN, short enough that a router without any of them (about 4 s to find out) costs little.
 */
const PORT_MAPPING_WAIT_MS = 5000

/** The DHT as the node uses it: pairing's and presence's subsets plus what `status` reports. */
export interface NetworkDht extends PairingDht, PresenceDht {
  get(
    namespace: string,
    key: Uint8Array,
    options?: { signal?: AbortSignal; publicKey?: Uint8Array },
  ): AsyncIterable<PresenceDhtRecord>
  publish(
    namespace: string,
    key: Uint8Array,
    value: Uint8Array,
    options: { keyPair: Ed25519KeyPair; ttlMs: number },
  ): PresencePublication
  /** The bound UDP address. */
  address(): { host: string; port: number }
  /** Nodes in the routing table. */
  routingTableSize(): number
  /** This node's address as DHT peers see it (voted), if known. */
  externalAddress(): { host: string; port: number } | null
  /** A DHT node LAN discovery found on this node's link (`spec/dht.md` §9.1). */
  addLinkPeer(address: { host: string; port: number }): void
  close(): Promise<void>
}

/** Opens the node's DHT (`lib/dht` `DhtNode`, adapted to {@link NetworkDht}). */
export type DhtOpener = (options: {
  host: string
  port: number
  bootstrap: string[]
  /** Where the routing table is kept between runs; none: not persisted. */
  tablePath?: string
  /** Keep the node's own records in its own store too, for LAN peers (`spec/dht.md` §7.5). */
  keepOwnRecords: boolean
}) => Promise<NetworkDht>

/** What a network engine needs from its node. */
export interface NetworkParts {
  options: ResolvedNodeOptions
  /** The instance directory. */
  dir: string
  identity: Identity
  store: PairedDeviceStore
  deviceInfo: DeviceInfo
  resources: Resources
  openDht: DhtOpener
  /** What rides on each device link (streams, `spec/transfer.md` §2). */
  tenants?: LinkTenantFactory
}

/**
 * Brings up the network side of a node (`spec/control.md` §1): the DHT on UDP, LAN discovery feeding it
 * (`spec/discovery.md`), the TCP listener on the
 * same port number when free (pairing and reconnects, routed by preamble: `spec/presence.md` §4), the
 * address book, if asked router port mappings, the presence record and the links to paired devices.
 * Each part is registered with `resources` as soon as it exists, so `close()` releases it.
 */
export async function startNetwork(parts: NetworkParts): Promise<PairingEngine> {
  const { options, resources } = parts
  const lanDiscovery = options.lanDiscovery ?? !isLoopback(options.host)
  const dht = await parts.openDht({
    host: options.host,
    port: options.port,
    bootstrap: options.bootstrap,
    tablePath: join(parts.dir, ROUTING_TABLE_FILE),
    // Alone on a LAN with no bootstrap node, the node stores its own adverts (spec/dht.md §7.5); with one,
    // a record only this node holds would hide that the DHT is unreachable.
    keepOwnRecords: lanDiscovery && options.bootstrap.length === 0,
  })
  resources.defer('dht', () => dht.close())
  const lan = lanDiscovery ? discoverLan(options.host, dht, options.mdnsPort) : null
  if (lan !== null) resources.defer('LAN discovery', () => lan.close())
  const listener = await listenTcp(options.host, dht.address().port)
  resources.defer('pairing listener', () => listener.close())
  const ports = { tcp: listener.port, udp: dht.address().port }
  const addresses = new AddressManager({ ports, networkInterfaces: interfacesOf(options.host) }).start()
  resources.defer('address book', () => addresses.stop())
  const mapping = options.portMapping && mapsFrom(options.host) ? mapPorts(addresses, ports) : null
  if (mapping !== null) resources.defer('port mappings', () => mapping.close())
  const nat = probeNat(options.bootstrap, options.host)
  resources.defer('NAT probe', () => nat.stop())
  const strategy = strategyParts(options, dht)
  const links = new DeviceLinks({
    identity: parts.identity,
    store: parts.store,
    dial: { identity: parts.identity, dht, contacts: await ContactBook.open(parts.dir), punch: strategy },
    peersChanged: () => {
      void presence.setPeers(presencePeers(parts.store))
      relay.refresh()
      answerPunches()
    },
  })
  resources.defer('device links', () => links.close())
  const dispatcher = new PairingDispatcher(openPairingChannel)
  const route = routeConnections(listener.server, {
    pairing: (socket, address) => dispatcher.handleSocket(socket, address, incomingPath(address, addresses)),
    reconnect: (socket, address) => links.accept(socket, address, incomingPath(address, addresses)),
  })
  const punched = (socket: Socket) =>
    void routeSocket(socket, {
      pairing: (routed, address) => dispatcher.handleSocket(routed, address, 'holepunch'),
      reconnect: (routed, address) => links.accept(routed, address, 'holepunch'),
    })
  const answerer = new PunchAnswerer({
    parts: strategy,
    identityKey: parts.identity.publicKey,
    accept: punched,
  })
  resources.defer('punch answers', () => answerer.close())
  // Only a node that cannot be dialed waits to be punched to, and only by devices with no direct link.
  const answerPunches = () =>
    answerer.answer(
      needsPunching(addresses)
        ? parts.store.list().filter((d) => !links.isOnline(d.deviceId) || links.isRelayed(d.deviceId))
        : [],
    )
  for (const event of ['online', 'offline', 'upgraded'] as const) links.on(event, answerPunches)
  addresses.on('change', answerPunches)
  resources.defer('punch answer updates', () => void addresses.off('change', answerPunches))
  if (parts.tenants !== undefined) links.carry(parts.tenants)
  const relay = new NodeRelay({
    identityKey: parts.identity.publicKey,
    devices: () => parts.store.list(),
    configured: options.relays.map(parseRelayAddress),
    dht,
    addresses,
    onCircuit: route,
  }).start()
  resources.defer('relay reservation', () => relay.close())
  const presence = publishPresence(parts, dht, addresses, relay)
  links.start()
  answerPunches()
  const mapped = mapping?.settled ?? Promise.resolve()
  return new NetworkEngine(parts, dht, {
    lan,
    listener,
    dispatcher,
    addresses,
    mapped,
    nat,
    links,
    presence,
    relay,
    strategy,
    punched,
  })
}

/**
 * Starts LAN discovery (`spec/discovery.md`) on the interfaces of a node bound to `host`, as they come
 * and go, handing each pairctl node it finds to the DHT as a link peer.
 */
function discoverLan(host: string, dht: NetworkDht, groupPort: number): LanDiscovery {
  return LanDiscovery.start({
    port: dht.address().port,
    interfaces: () => discoveryInterfaces(host),
    groupPort,
    onPeer: (peer) => dht.addLinkPeer(peer),
  })
}

/**
 * Publishes the node's presence records (`spec/presence.md` §3), one per paired device, with its
 * advertisable TCP addresses, again whenever they change; withdrawn at close, before the DHT goes.
 */
function publishPresence(
  parts: NetworkParts,
  dht: NetworkDht,
  addresses: AddressManager,
  relay: NodeRelay,
): PresencePublisher {
  const { identity, resources } = parts
  const presence = new PresencePublisher({
    dht,
    keyPair: identity.keyPair,
    staticKey: identity.noiseKeyPair.publicKey,
  })
  const update = () => void presence.update([...tcpAddresses(addresses), ...relay.presenceAddresses()])
  addresses.on('change', update)
  relay.on('change', update)
  void presence.setPeers(presencePeers(parts.store))
  update()
  resources.defer('presence record', () => {
    addresses.off('change', update)
    relay.off('change', update)
    return presence.close()
  })
  return presence
}

/** The paired devices presence publishes for: those with a presence secret (store version 2). */
function presencePeers(store: PairedDeviceStore): PresencePeer[] {
  return store
    .list()
    .flatMap(({ identityKey, presenceSecret }) =>
      presenceSecret === undefined ? [] : [{ identityKey, presenceSecret }],
    )
}

/** The advertisable TCP addresses, best first, as adverts and presence records carry them. */
function tcpAddresses(addresses: AddressManager): AdvertAddress[] {
  return addresses
    .advertisable()
    .filter((address) => address.protocol === 'tcp')
    .map((address) => ({ host: address.host, port: address.port, transport: 'tcp' }))
}

/** Interfaces to take addresses from: all of them for a wildcard bind, else just the bound address. */
function interfacesOf(host: string): () => InterfaceList {
  if (isWildcard(host)) return networkInterfaces
  const common = { address: host, internal: false, netmask: '', mac: '', cidr: null }
  const info: NetworkInterfaceInfo = host.includes(':')
    ? { ...common, family: 'IPv6', scopeid: 0 }
    : { ...common, family: 'IPv4' }
  return () => ({ bound: [info] })
}

/** The connection strategy's view of the node (`spec/holepunch.md` §6). */
function strategyParts(options: ResolvedNodeOptions, dht: NetworkDht): StrategyParts {
  const wildcard = isWildcard(options.host)
  return {
    dht,
    stunServer: parseHostPort(options.bootstrap[0]),
    ...(wildcard ? {} : { localAddress: options.host }),
  }
}

/**
 * True when paired devices may have to punch to reach this node (`spec/holepunch.md` §4.1): no router
 * mapping and no public address on an interface.
 */
function needsPunching(addresses: AddressManager): boolean {
  const publicInterface = addresses
    .list()
    .some((address) => address.sources.includes('interface') && classifyIp(address.host) === 'public')
  return !publicInterface && !hasMapping(addresses)
}

/** True while a router mapping (UPnP, NAT-PMP or PCP) vouches for one of the node's addresses. */
function hasMapping(addresses: AddressManager): boolean {
  return addresses.list().some((address) => address.sources.some((source) => MAPPING_SOURCES.has(source)))
}
const MAPPING_SOURCES = new Set(['upnp', 'natpmp', 'pcp'])

/** The parts of a started network an engine drives. */
interface EngineParts {
  /** LAN discovery, when it runs. */
  lan: LanDiscovery | null
  listener: PairingListener
  /** Pairing connections, handed over by the preamble router. */
  dispatcher: PairingDispatcher
  addresses: AddressManager
  /** Settles once port mapping has an answer; adverts wait for it (bounded) to carry the mapped address. */
  mapped: Promise<void>
  nat: NatProbe
  links: DeviceLinks
  presence: PresencePublisher
  /** Relay reservation and the relayed address (`spec/relay.md` §8). */
  relay: NodeRelay
  strategy: StrategyParts
  /** Routes a connection this node made by hole punching as the responder. */
  punched: (socket: Socket) => void
}

class NetworkEngine implements PairingEngine {
  private readonly listener: PairingListener
  private readonly addresses: AddressManager
  private readonly nat: NatProbe

  constructor(
    private readonly parts: NetworkParts,
    private readonly dht: NetworkDht,
    private readonly engine: EngineParts,
  ) {
    this.listener = engine.listener
    this.addresses = engine.addresses
    this.nat = engine.nat
  }

  get links(): DeviceLinks {
    return this.engine.links
  }

  async generate(run: PairingRun, request: PairingRequest): Promise<PairedDevice> {
    const relayed = await this.engine.relay.pairingAddress()
    try {
      const session = await this.advertise(run, request, relayed.address).catch((err) => {
        throw hasCode(err, 'DHT_NOT_STORED')
          ? noDhtNode(this.parts.options.bootstrap, 'the code cannot be advertised', err)
          : err
      })
      return await follow(run, session)
    } finally {
      relayed.release()
    }
  }

  private async advertise(
    run: PairingRun,
    request: PairingRequest,
    relayed: AdvertAddress | null,
  ): Promise<PairingSession> {
    await Promise.race([this.engine.mapped, sleep(PORT_MAPPING_WAIT_MS, undefined, { ref: false })])
    const { bootstrap, host } = this.parts.options
    // The advert is readable by every DHT node: only addresses in the DHT's scope (spec/pairing.md §3.1).
    // With no bootstrap node, the DHT is the LAN discovery found (spec/discovery.md §5).
    const seeds = bootstrap.length > 0 ? bootstrap.map(endpointHost) : (this.engine.lan?.addresses() ?? [])
    const scope = dhtScope(seeds, host)
    const direct = publishableAddresses(tcpAddresses(this.addresses), scope)
    // Nothing reachable, but a hole punch may be (spec/holepunch.md §6): advertise the NAT's public address.
    if (direct.length === 0) direct.push(...(await this.punchableAddress()))
    // The relay last: a joiner tries it only after the direct addresses (`spec/relay.md` §8.2).
    const addresses = [...direct, ...(relayed === null ? [] : [relayed])]
    if (addresses.length === 0)
      throw PairingError.badOption(
        `no address of this device is reachable from the ${scope} nodes of its DHT, so a joiner could not connect: enable port mapping, or use a bootstrap node on this network`,
      )
    return generatePairing({
      ...this.common(run, request),
      listener: this.engine.dispatcher,
      addresses,
      words: request.words,
      ttlMs: request.timeoutMs,
      onAdvertised: (session) => answerPairingPunches(this.engine.strategy, session, this.engine.punched),
    })
  }

  /** The NAT's public host (STUN) with the listener's port, which a joiner dials while it punches. */
  private async punchableAddress(): Promise<AdvertAddress[]> {
    const { stunServer } = this.engine.strategy
    if (stunServer === null) return []
    const mapping = await learnMapping(stunServer).catch(() => null)
    return mapping === null ? [] : [{ host: mapping.mapped.host, port: this.listener.port, transport: 'tcp' }]
  }

  async join(run: PairingRun, code: string, request: PairingRequest): Promise<PairedDevice> {
    const deadline =
      request.timeoutMs === undefined
        ? null
        : setTimeout(() => run.cancel(timedOut(request)), request.timeoutMs)
    try {
      const connectAdvert = strategyConnector(this.engine.strategy)
      const usedCodes = await UsedCodeStore.open(this.parts.dir)
      const ownCodes = this.engine.dispatcher
      const session = joinPairing({ ...this.common(run, request), code, connectAdvert, usedCodes, ownCodes })
      const device = await follow(run, session)
      this.engine.relay.refresh()
      return device
    } catch (err) {
      throw run.signal.reason instanceof PairingError ? run.signal.reason : err
    } finally {
      if (deadline !== null) clearTimeout(deadline)
    }
  }

  status(): NetworkStatus {
    const { host, port } = this.dht.address()
    return {
      listen: [
        { host, port, protocol: 'udp', source: 'socket' },
        { host, port: this.listener.port, protocol: 'tcp', source: 'socket' },
      ],
      external: [...this.addresses.list().map(addressInfo), ...this.observed(), ...this.relayed()],
      natType: this.nat.natType,
      routingTableSize: this.dht.routingTableSize(),
      lan: this.lanStatus(),
    }
  }

  /** LAN discovery's interfaces and the pairctl nodes it found there; null when it is off. */
  private lanStatus(): NetworkStatus['lan'] {
    const { lan } = this.engine
    return lan === null ? null : { interfaces: lan.addresses(), peers: lan.peers().length }
  }

  private common(run: PairingRun, request: PairingRequest) {
    const { identity, store, deviceInfo } = this.parts
    return { identity, dht: this.dht, deviceInfo, store, confirm: request.confirm, signal: run.signal }
  }

  /** The relay this node is reachable through, while it holds a reservation. */
  private relayed(): AddressInfo[] {
    const relay = this.engine.relay.relay
    return relay === null ? [] : [{ ...relay, protocol: 'tcp', source: 'relay' }]
  }

  /** The UDP address DHT peers report seeing us at, when they agree on one. */
  private observed(): AddressInfo[] {
    const seen = this.dht.externalAddress()
    return seen === null ? [] : [{ ...seen, protocol: 'udp', source: 'dht-observed' }]
  }
}

/** Relays a session's events to the run as progress steps; resolves with its result. */
async function follow(run: PairingRun, session: PairingSession): Promise<PairedDevice> {
  for await (const event of session.events) {
    const progress = toProgress(event)
    if (progress !== null) run.report(progress)
  }
  return session.result
}

function addressInfo(address: Address): AddressInfo {
  return {
    host: address.host,
    port: address.port,
    protocol: address.protocol,
    source: address.sources.join('+'),
  }
}

/**
 * No DHT node answered: the table is empty, which a bootstrap address fixes.
 * `consequence` says what the user asked for and cannot have ("the code cannot be looked up"); `lan`:
 * LAN discovery ran and found nobody either.
 */
export function noDhtNode(bootstrap: string[], consequence: string, cause: unknown, lan = false): NodeError {
  const nobody = lan
    ? 'the bootstrap option is empty and LAN discovery found no other pairctl device on this network'
    : 'the bootstrap option is empty and no other node is known'
  const detail =
    bootstrap.length === 0 ? nobody : `the bootstrap node(s) ${bootstrap.join(', ')} did not reply`
  return new NodeError('NODE_NO_PEERS', `no DHT node answered (${detail}), so ${consequence}`, { cause })
}

function timedOut(request: PairingRequest): PairingError {
  const seconds = Math.round((request.timeoutMs ?? 0) / 1000)
  return new PairingError(
    'PAIRING_TIMEOUT',
    `no pairing completed within ${seconds} s; check the code and that the other device is still waiting`,
  )
}

/** How an accepted pairing connection from `address` (`HOST:PORT`, or a relay circuit's) got here. */
function incomingPath(address: string, addresses: AddressManager): ConnectionPath {
  if (isRelayedAddress(address)) return 'relay'
  return acceptedPath(address.slice(0, address.lastIndexOf(':')), hasMapping(addresses))
}
