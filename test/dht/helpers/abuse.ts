/**
 * Abuse measurements of the DHT core (`spec/dht.md` §8), shared by `test/dht/abuse.test.ts` (which
 * asserts the bounds) and `bench/abuse` (which prints the figures at full size). Everything is sans-I/O:
 * datagrams are fed to cores and, for the lookup under flood, to a {@link MemoryNetwork}.
 */
import { Ed25519KeyPair, sha256, utf8 } from '../../../lib/crypto/index.js'
import { type Address, encodeAddress, nodeIdOf } from '../../../lib/dht/address.js'
import { Command, DEFAULT_LIMITS, MAX_DATAGRAM_BYTES, WireError } from '../../../lib/dht/constants.js'
import type { DhtCore } from '../../../lib/dht/core.js'
import { endpointText, groupText, nodeIdText } from '../../../lib/dht/endpoint.js'
import { encodeDatagram } from '../../../lib/dht/fast-cbor.js'
import { compare, Lookup, xor } from '../../../lib/dht/lookup.js'
import type { Message, RequestBody } from '../../../lib/dht/messages.js'
import { ownedKey, signRecord, storageTarget } from '../../../lib/dht/record.js'
import { TableEntry } from '../../../lib/dht/routing.js'
import type { MemoryNetwork, SimNode } from '../../../lib/dht/sim.js'
import { drain, fillTable, makeCore, NOW, SERVER } from './core.js'
import { buildNetwork, putRecord, testId } from './sim.js'

/** Every request a source can send, as the sweep names it; PUT twice: without and with a valid token. */
export const RPCS = ['PING', 'FIND_NODE', 'GET', 'PUT bad token', 'PUT', 'unknown command'] as const
export type RpcName = (typeof RPCS)[number]

/** The worst reply of one RPC over the sweep of request sizes and sources. */
export interface AmplificationFigure {
  rpc: RpcName
  family: 4 | 6
  /** Largest reply bytes / request bytes over every answered request. */
  worstRatio: number
  /** Largest reply datagram. */
  largestReply: number
  /** Requests sent and replies received in the sweep. */
  requests: number
  answered: number
}

const SPAM_KEY = testId('abuse: the key with 8 large records')

/** The i-th address of one /24 (IPv4) or /64 (IPv6): many hosts and ports, one address group. */
export function attacker(i: number, family: 4 | 6 = 4): Address {
  const port = 1024 + (i >> 8)
  return family === 4
    ? { host: `10.66.6.${(i & 255) % 254 || 254}`, port }
    : { host: `2001:db8:66::${(i & 0xffff).toString(16)}`, port }
}

/** A fresh source per request (no table or limiter state about it), in its own group. */
function stranger(i: number, family: 4 | 6): Address {
  return family === 4
    ? { host: `${1 + ((i >> 16) & 127)}.${(i >> 8) & 255}.${i & 255}.1`, port: 7000 }
    : { host: `2001:db8:${(i >> 16).toString(16)}:${(i & 0xffff).toString(16)}::1`, port: 7000 }
}

function serverOf(family: 4 | 6): Address {
  return family === 4 ? SERVER : { host: '2001:db8::1', port: 4000 }
}

/**
 * A server with 300 table entries and 8 records of 600 bytes at {@link SPAM_KEY}: the largest answers.
 * `limited`: production grouping and rate limits, else none (the sweep sends from thousands of groups).
 * Loading it comes from distinct groups, so it never spends the limits a test then measures.
 */
function loadedServer(family: 4 | 6, limited = false): DhtCore {
  const core = makeCore({
    family,
    address: serverOf(family),
    grouping: 'subnet',
    ...(limited ? {} : { limits: { requestsPerSecond: Number.POSITIVE_INFINITY } }),
  })
  fillTable(
    core,
    Array.from({ length: 300 }, (_, i) => stranger(100_000 + i, family)),
  )
  for (let i = 0; i < DEFAULT_LIMITS.recordsPerKey; i++) {
    const publisher = Ed25519KeyPair.fromSeed(sha256(utf8(`abuse publisher ${i}`)))
    const record = signRecord(
      'pairing',
      SPAM_KEY,
      { seq: 1, expiresAt: NOW + 60_000, value: new Uint8Array(600).fill(i) },
      publisher,
    )
    const from = stranger(200_000 + i, family)
    const token = send(core, from, Command.GET, { ns: 'pairing', k: SPAM_KEY }, { padding: 400 })!.message.tk!
    send(core, from, Command.PUT, { ns: 'pairing', k: SPAM_KEY, tk: token, r: record })
  }
  return core
}

/** Encodes a request exactly as given (no automatic padding), `z` only when `padding` is a number. */
function rawRequest(
  c: number,
  to: Address,
  body: RequestBody,
  options: { id?: Uint8Array; padding?: number; t?: number },
): Uint8Array {
  return encodeDatagram({
    y: 0,
    v: 1,
    t: options.t ?? 7,
    c,
    to: encodeAddress(to),
    ...(options.id === undefined ? {} : { id: options.id }),
    ...body,
    ...(options.padding === undefined ? {} : { z: new Uint8Array(options.padding) }),
  })
}

/** Feeds one request from `from`; the reply to `from` (if any) and everything else sent to `from`. */
function send(
  core: DhtCore,
  from: Address,
  c: number,
  body: RequestBody,
  options: { id?: Uint8Array; padding?: number; now?: number } = {},
): { request: Uint8Array; bytes: Uint8Array; message: Message; toSource: number } | null {
  const request = rawRequest(c, serverOf(core.family), body, options)
  core.receive(request, from, options.now ?? NOW)
  const out = drain(core).filter((item) => item.to.host === from.host && item.to.port === from.port)
  const reply = out.find((item) => item.message.y === 1)
  const toSource = out.reduce((sum, item) => sum + item.bytes.length, 0)
  return reply === undefined ? null : { request, bytes: reply.bytes, message: reply.message, toSource }
}

function bodyOf(rpc: RpcName, core: DhtCore, from: Address): { c: number; body: RequestBody } {
  const record = signRecord(
    'pairing',
    SPAM_KEY,
    { seq: 2, expiresAt: NOW + 60_000, value: utf8('spam') },
    Ed25519KeyPair.fromSeed(sha256(utf8('abuse: one more publisher'))),
  )
  switch (rpc) {
    case 'PING':
      return { c: Command.PING, body: {} }
    case 'FIND_NODE':
      return { c: Command.FIND_NODE, body: { tg: testId(`target ${from.host}`) } }
    case 'GET':
      return { c: Command.GET, body: { ns: 'pairing', k: SPAM_KEY } }
    case 'PUT bad token':
      return { c: Command.PUT, body: { ns: 'pairing', k: SPAM_KEY, tk: new Uint8Array(16), r: record } }
    case 'PUT': {
      const token = send(core, from, Command.GET, { ns: 'pairing', k: SPAM_KEY }, { padding: 400 })!.message
        .tk!
      return { c: Command.PUT, body: { ns: 'pairing', k: SPAM_KEY, tk: token, r: record } }
    }
    case 'unknown command':
      return { c: 9, body: {} }
  }
}

/** Paddings swept: none, then `z` of 0..1100 bytes (every size class up to the datagram limit). */
function paddings(step: number): (number | undefined)[] {
  const out: (number | undefined)[] = [undefined]
  for (let p = 0; p <= 1100; p += p < 64 ? 1 : step) out.push(p)
  return out
}

/**
 * The amplification sweep (`spec/dht.md` §8.1): every RPC, from a new source each time (never seen,
 * so nothing about it is verified), with and without a claimed id, at every request size from the
 * unpadded minimum to the datagram limit. `step` thins the sizes above 64 bytes.
 */
export function measureAmplification(family: 4 | 6, step = 1): AmplificationFigure[] {
  const core = loadedServer(family)
  let next = 0
  return RPCS.map((rpc) => {
    const figure: AmplificationFigure = {
      rpc,
      family,
      worstRatio: 0,
      largestReply: 0,
      requests: 0,
      answered: 0,
    }
    for (const padding of paddings(step)) {
      for (const withId of [false, true]) {
        const from = stranger(next++, family)
        const { c, body } = bodyOf(rpc, core, from)
        const options = {
          ...(withId ? { id: nodeIdOf(from) } : {}),
          ...(padding === undefined ? {} : { padding }),
        }
        if (rawRequest(c, serverOf(family), body, options).length > MAX_DATAGRAM_BYTES) continue
        figure.requests++
        const reply = send(core, from, c, body, options)
        if (reply === null) continue
        figure.answered++
        figure.worstRatio = Math.max(figure.worstRatio, reply.bytes.length / reply.request.length)
        figure.largestReply = Math.max(figure.largestReply, reply.bytes.length)
      }
    }
    return figure
  })
}

/**
 * Everything a server sends to a new source that claims the id its endpoint derives (a spoofed victim's,
 * say): the reply, then the ping-before-insert probe and its retransmissions (§6.1, §6.2), over the
 * probe's whole life. The request is the smallest PING with an id (unpadded). Returns the bytes and their ratio.
 */
export function measureProbeReflection(): { request: number; reply: number; probes: number; ratio: number } {
  const core = makeCore()
  const victim = stranger(1, 4)
  const request = rawRequest(Command.PING, SERVER, {}, { id: nodeIdOf(victim) })
  core.receive(request, victim, NOW)
  let reply = 0
  let probes = 0
  for (let now = NOW; now < NOW + 60_000; now += 50) {
    core.handleTimeout(now)
    for (const out of drain(core)) {
      if (out.to.host !== victim.host) continue
      if (out.message.y === 1) reply += out.bytes.length
      else probes += out.bytes.length
    }
  }
  return { request: request.length, reply, probes, ratio: (reply + probes) / request.length }
}

/** Replies one flooding /24 got from one server core, and what it sent. */
export interface FloodFigure {
  sources: number
  offered: number
  granted: number
  seconds: number
  /** Granted replies per second to the flooding group, beyond its initial burst. */
  grantedPerSecond: number
  rateLimited: number
}

/**
 * `sources` addresses of one /24 (many hosts and ports) send `perSecond` padded GETs for the largest
 * records for `seconds` of virtual time to one server with production (`subnet`) grouping.
 */
export function measureFlood(sources: number, perSecond: number, seconds: number): FloodFigure {
  const core = loadedServer(4, true)
  const tickMs = 10
  const perTick = Math.max(1, Math.round((perSecond * tickMs) / 1000))
  let offered = 0
  let granted = 0
  for (let now = NOW; now < NOW + seconds * 1000; now += tickMs) {
    for (let i = 0; i < perTick; i++) {
      const from = attacker(offered++ % sources)
      if (send(core, from, Command.GET, { ns: 'pairing', k: SPAM_KEY }, { padding: 400, now }) !== null)
        granted++
    }
  }
  const burst = DEFAULT_LIMITS.requestBurst
  return {
    sources,
    offered,
    granted,
    seconds,
    grantedPerSecond: (granted - burst) / seconds,
    rateLimited: core.counters.rateLimited,
  }
}

/** A GET from an honest node while the storing nodes are flooded, and what the flooder got meanwhile. */
export interface LookupUnderFlood {
  found: boolean
  virtualMs: number
  floodOffered: number
  floodGranted: number
  /** Replies per second each flooded node granted the flooder, beyond the burst (mean over nodes). */
  grantedPerSecondPerNode: number
}

/**
 * A `size`-node simulated network with subnet grouping; a record is stored, then the `victims` nodes
 * closest to it are flooded (`perSecond` GETs each, from 256 addresses × ports of one /24) while an
 * honest node of another /24 looks the record up. The flood runs for `floodMs` before the lookup starts.
 */
export function measureLookupUnderFlood(
  size: number,
  victims: number,
  perSecond: number,
  floodMs: number,
): LookupUnderFlood {
  const net = buildNetwork(size, { seed: 17 }, { grouping: 'subnet', limits: { refreshMs: 3_600_000 } })
  const key = testId('abuse: the looked-up key')
  const owner = Ed25519KeyPair.fromSeed(sha256(utf8('abuse: owner')))
  putRecord(net, net.nodes[3]!, {
    namespace: 'pairing',
    key,
    value: utf8('the real record'),
    keyPair: owner,
    ttlMs: 600_000,
  })
  const flooded = closestNodes(net, key, victims)
  const tickMs = 10
  const perTick = Math.max(1, Math.round((perSecond * tickMs) / 1000))
  let offered = 0
  let granted = 0
  const floodTick = () => {
    for (const node of flooded) {
      net.act(node, (core, now) => {
        for (let i = 0; i < perTick; i++) {
          const from = attacker(offered++ % 4096)
          const request = rawRequest(Command.GET, node.address, { ns: 'pairing', k: key }, { padding: 400 })
          core.receive(request, from, now)
          // Only the reply to the flooder can be queued here: its requests carry no id, so no probe.
          for (let out = core.pollTransmit(); out !== null; out = core.pollTransmit()) granted++
        }
      })
    }
  }
  const start = net.now
  while (net.now < start + floodMs) {
    floodTick()
    net.runFor(tickMs)
  }
  const asker = net.nodes.find((node) => !flooded.includes(node) && node !== net.nodes[3])!
  const query = net.act(asker, (core, now) => core.get('pairing', key, now))
  const mine = (event: SimNode['events'][number]) => 'query' in event && event.query === query
  const lookupStart = net.now
  while (!asker.events.some((event) => mine(event) && event.type === 'queryDone')) {
    if (net.now - lookupStart > 60_000) break
    floodTick()
    net.runFor(tickMs)
  }
  const found = asker.events.some(
    (event) =>
      mine(event) && event.type === 'records' && event.records.some((r) => r.publicKey !== undefined),
  )
  const seconds = (net.now - start) / 1000
  const burst = DEFAULT_LIMITS.requestBurst
  return {
    found,
    virtualMs: net.now - lookupStart,
    floodOffered: offered,
    floodGranted: granted,
    grantedPerSecondPerNode: (granted / flooded.length - burst) / seconds,
  }
}

function closestNodes(net: MemoryNetwork, key: Uint8Array, n: number): SimNode[] {
  const target = storageTarget('pairing', key)
  return [...net.nodes].sort((a, b) => compare(xor(a.core.id, target), xor(b.core.id, target))).slice(0, n)
}

/** Attacker entries that got into a victim's table, and the lookup shortlist. */
export interface SybilFigure {
  family: 4 | 6
  offered: number
  inTable: number
  tableSize: number
  /** Largest number of attacker entries at one shared-prefix length with our id (one bucket or part of one). */
  perLevel: number
  /** Distinct shared-prefix lengths the attacker entries occupy. */
  levels: number
  /** Attacker nodes one lookup asked, offered all of them at once. */
  askedByLookup: number
}

/**
 * `offered` node ids from one /24 (or /64): each a distinct host:port, so a distinct id spread over
 * every bucket, each answering the probe, against a server that also learns 300 honest nodes.
 */
export function measureSybil(family: 4 | 6, offered: number): SybilFigure {
  const server = serverOf(family)
  const core = makeCore({
    family,
    address: server,
    grouping: 'subnet',
    limits: { requestsPerSecond: Number.POSITIVE_INFINITY },
  })
  const sybils = Array.from({ length: offered }, (_, i) => attacker(i, family))
  const honest = Array.from({ length: 300 }, (_, i) => stranger(300_000 + i, family))
  fillTable(core, [...sybils.slice(0, offered / 2), ...honest, ...sybils.slice(offered / 2)])
  const group = groupText(endpointText(sybils[0]!), 'subnet')
  const isSybil = (address: Address) => groupText(endpointText(address), 'subnet') === group
  const own = core.id
  const perLevel = new Map<number, number>()
  let inTable = 0
  for (const contact of core.contacts()) {
    if (!isSybil(contact)) continue
    inTable++
    const level = sharedPrefix(own, contact.id)
    perLevel.set(level, (perLevel.get(level) ?? 0) + 1)
  }
  // The target is an attacker's own id: its nodes are the closest there, the lookup's best case for them.
  const lookup = new Lookup(nodeIdOf(sybils[0]!), {
    k: 20,
    alpha: 3,
    shortlist: DEFAULT_LIMITS.shortlist,
    nodesPerGroup: DEFAULT_LIMITS.nodesPerGroup,
    grouping: 'subnet',
  })
  for (const address of [...sybils, ...honest]) {
    const key = endpointText(address)
    lookup.add(new TableEntry(key, nodeIdText(key)))
  }
  let askedByLookup = 0
  for (let round = 0; round < 1000 && !lookup.done(); round++) {
    const batch = lookup.next()
    if (batch.length === 0) break
    for (const entry of batch) {
      if (isSybil(entry)) askedByLookup++
      lookup.replied(entry.key, true, [])
    }
  }
  return {
    family,
    offered,
    inTable,
    tableSize: core.tableSize,
    perLevel: Math.max(...perLevel.values()),
    levels: perLevel.size,
    askedByLookup,
  }
}

function sharedPrefix(a: Uint8Array, b: Uint8Array): number {
  for (let i = 0; i < a.length; i++) {
    const x = a[i]! ^ b[i]!
    if (x !== 0) return i * 8 + Math.clz32(x) - 24
  }
  return a.length * 8
}

/** What record spam left in one storing node. */
export interface SpamFigure {
  attempts: number
  stored: number
  atOneKey: number
  bySpammer: number
  storeBytes: number
  /** The owner's presence record, PUT after the spam: stored (OK) or not. */
  ownerStored: boolean
  /** Squatters' records at the owner's presence key that were accepted. */
  squattersAtOwnerKey: number
}

/**
 * One spammer /24 PUTs `publishers` records (each its own key pair) at one `pairing` key and `keys`
 * records across keys, plus squatting records at an owner's `presence` key; then the owner PUTs.
 * With `groups` > 1 the spam comes from that many /24s (the total-bytes cap, `storeBytes`).
 */
export function measureRecordSpam(
  publishers: number,
  keys: number,
  groups = 1,
  storeBytes = DEFAULT_LIMITS.storeBytes,
): SpamFigure {
  const core = makeCore({
    grouping: 'subnet',
    limits: { requestsPerSecond: Number.POSITIVE_INFINITY, storeBytes },
  })
  const oneKey = testId('abuse: spammed key')
  let attempts = 0
  let stored = 0
  const put = (
    from: Address,
    namespace: string,
    key: Uint8Array,
    pair: Ed25519KeyPair,
    value: Uint8Array,
  ) => {
    const token = send(core, from, Command.GET, { ns: namespace, k: key }, { padding: 400 })!.message.tk!
    const r = signRecord(namespace, key, { seq: 1, expiresAt: NOW + 600_000, value }, pair)
    return (
      (send(core, from, Command.PUT, { ns: namespace, k: key, tk: token, r })!.message.e ?? 0) ===
      WireError.OK
    )
  }
  const spammer = (i: number): Address =>
    groups === 1 ? attacker(i) : { host: `10.77.${i % groups}.${1 + (i % 200)}`, port: 2000 + i }
  const pairs = (label: string, i: number) => Ed25519KeyPair.fromSeed(sha256(utf8(`${label} ${i}`)))
  for (let i = 0; i < publishers; i++) {
    attempts++
    if (put(spammer(i), 'pairing', oneKey, pairs('one key', i), new Uint8Array(700))) stored++
  }
  for (let i = 0; i < keys; i++) {
    attempts++
    if (put(spammer(i), 'pairing', testId(`spam key ${i}`), pairs('many keys', i), new Uint8Array(700)))
      stored++
  }
  const owner = pairs('presence owner', 0)
  const ownerKey = ownedKey('presence', owner.publicKey)
  let squattersAtOwnerKey = 0
  for (let i = 0; i < 16; i++)
    if (put(spammer(i), 'presence', ownerKey, pairs('squatter', i), new Uint8Array(100)))
      squattersAtOwnerKey++
  const bySpammer = stored
  const atOneKey = core.storeStats().records - keysHeld(core, keys)
  const ownerStored = put(
    { host: '192.0.2.44', port: 4000 },
    'presence',
    ownerKey,
    owner,
    new Uint8Array(300),
  )
  return {
    attempts,
    stored,
    atOneKey,
    bySpammer,
    storeBytes: core.storeStats().bytes,
    ownerStored,
    squattersAtOwnerKey,
  }

  function keysHeld(target: DhtCore, count: number): number {
    let held = 0
    for (let i = 0; i < count; i++) {
      const reply = send(
        target,
        { host: '192.0.2.9', port: 1 },
        Command.GET,
        { ns: 'pairing', k: testId(`spam key ${i}`) },
        { padding: 400 },
      )
      held += reply?.message.rs?.length ?? 0
    }
    return held
  }
}

/**
 * `groups` address groups (distinct /24s) in rotation, each sending `perSecond` PINGs, for `seconds` of
 * virtual time against one server whose limiter tracks `entries` groups (1024 by default, §8.2): more
 * groups than that means each is forgotten before it comes round again. Returns the replies granted
 * and their rate per group.
 */
export function measureGroupRotation(
  groups: number,
  perSecond: number,
  seconds: number,
  entries = DEFAULT_LIMITS.rateLimiterEntries,
): { granted: number; offered: number; perGroupPerSecond: number } {
  const core = makeCore({ grouping: 'subnet', limits: { rateLimiterEntries: entries } })
  const tickMs = 10
  const perTick = Math.max(1, Math.round((groups * perSecond * tickMs) / 1000))
  let offered = 0
  let granted = 0
  for (let now = NOW; now < NOW + seconds * 1000; now += tickMs) {
    for (let i = 0; i < perTick; i++) {
      const from = stranger(500_000 + (offered++ % groups), 4)
      if (send(core, from, Command.PING, {}, { padding: 40, now }) !== null) granted++
    }
  }
  return { granted, offered, perGroupPerSecond: granted / groups / seconds }
}
