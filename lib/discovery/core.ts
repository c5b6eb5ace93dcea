import type { Question } from 'dns-packet'
import { ipToBytes } from '../addresses/ip.js'
import { randomBytes, toHex } from '../crypto/index.js'
import { BoundedMap } from '../dht/bounded-map.js'
import {
  ANNOUNCE_INTERVAL_MS,
  ANNOUNCEMENTS,
  FIRST_QUERY_INTERVAL_MS,
  MAX_ANSWER_RATIO,
  MAX_LEGACY_ANSWERS_PER_S,
  MAX_PEERS,
  MAX_QUERY_INTERVAL_MS,
  MDNS_PORT,
  MIN_ANSWER_INTERVAL_MS,
  PEER_REFRESH_MS,
  SERVICE_TYPE,
} from './constants.js'
import {
  type Announcement,
  announcementPacket,
  instancesIn,
  knowsOurs,
  legacyUnicastAnswer,
  namesOf,
  type QueryPacket,
  questionsFor,
  type ResponsePacket,
  sectionsOf,
  serviceQuery,
} from './records.js'

/** The interface one core announces on: its IPv4 address and netmask. */
export interface LinkInterface {
  address: string
  netmask: string
}

/** Options of a {@link LanDiscoveryCore}. */
export interface LanDiscoveryCoreOptions {
  /** The interface the core speaks for; only peers on its subnet are accepted. */
  link: LinkInterface
  /** The node's DHT UDP port, announced in SRV. */
  port: number
  /** The random instance label; by default `pairctl-` and 8 random hex digits, new per start. */
  label?: string
  /** The port of the multicast group (5353; tests use another). A query from another port is legacy unicast. */
  groupPort?: number
  now: number
}

/** An endpoint, IPv4. */
export interface Endpoint {
  host: string
  port: number
}

/** A datagram for the adapter: to the group (`to` null) or, for a legacy unicast query, to its source. */
export interface DiscoveryTransmit {
  packet: QueryPacket | ResponsePacket
  to: Endpoint | null
}

/**
 * `peer`: a pairctl node on our link, at its DHT endpoint (the packet's source address and the SRV
 * port), new, changed, or not reported for {@link PEER_REFRESH_MS}. `gone`: it said goodbye.
 */
export type DiscoveryEvent = { type: 'peer' | 'gone'; peer: Endpoint; instance: string }

interface Known {
  peer: Endpoint
  reportedAt: number
}

/**
 * LAN discovery for one interface (`spec/discovery.md`), sans I/O like `lib/dht/core.ts`: decoded mDNS
 * packets and `now` in, packets to send and peer events out. It announces the node (twice at start, a
 * goodbye at close), queries for others with doubling intervals, answers queries for its names, and
 * reports the instances it hears from hosts on its own subnet.
 */
export class LanDiscoveryCore {
  readonly label: string
  /** The interface address this core speaks for. */
  readonly address: string
  readonly #announcement: Announcement
  readonly #names: string[]
  readonly #link: { address: Uint8Array; mask: Uint8Array }
  readonly #groupPort: number
  readonly #known = new BoundedMap<string, Known>(MAX_PEERS)
  readonly #outbox: DiscoveryTransmit[] = []
  readonly #events: DiscoveryEvent[] = []
  #announcementsLeft = ANNOUNCEMENTS
  #announceAt: number
  #queryAt: number
  #queryInterval = FIRST_QUERY_INTERVAL_MS
  #answeredAt = Number.NEGATIVE_INFINITY
  /** Legacy unicast answers sent in the second that began at `start`. */
  #legacyAnswers = { start: Number.NEGATIVE_INFINITY, count: 0 }
  #closed = false

  constructor(options: LanDiscoveryCoreOptions) {
    this.label = options.label ?? `pairctl-${toHex(randomBytes(4))}`
    this.address = options.link.address
    this.#announcement = { label: this.label, address: options.link.address, port: options.port }
    const { instance, host } = namesOf(this.label)
    this.#names = [SERVICE_TYPE, instance, host]
    this.#link = { address: ipv4Bytes(options.link.address), mask: ipv4Bytes(options.link.netmask) }
    this.#groupPort = options.groupPort ?? MDNS_PORT
    this.#announceAt = options.now
    this.#queryAt = options.now
    this.handleTimeout(options.now)
  }

  /**
   * Feeds one decoded packet from `from`. `bytes` is its length on the wire, which bounds a legacy
   * unicast answer: a legacy query is answered only when it is given. Anything malformed or off-link
   * is dropped, never thrown.
   */
  receive(packet: unknown, from: Endpoint, now: number, bytes = 0): void {
    if (this.#closed || !this.#onLink(from.host)) return
    const sections = sectionsOf(packet)
    if (sections === null) return
    if (sections.type === 'query') this.#onQuery(sections, from, now, bytes)
    else this.#onResponse([...sections.answers, ...sections.additionals], from, now)
  }

  /** The next packet to send, or null. */
  pollTransmit(): DiscoveryTransmit | null {
    return this.#outbox.shift() ?? null
  }

  /** The next event, or null. */
  nextEvent(): DiscoveryEvent | null {
    return this.#events.shift() ?? null
  }

  /** When {@link handleTimeout} must next run, or null after close. */
  pollTimeout(): number | null {
    return this.#closed ? null : Math.min(this.#announceAt, this.#queryAt)
  }

  /** Sends the announcements and queries that are due. */
  handleTimeout(now: number): void {
    if (this.#closed) return
    if (now >= this.#announceAt) this.#announce(now)
    if (now >= this.#queryAt) {
      this.#outbox.push({ packet: serviceQuery(), to: null })
      this.#queryAt = now + this.#queryInterval
      this.#queryInterval = Math.min(2 * this.#queryInterval, MAX_QUERY_INTERVAL_MS)
    }
  }

  /** Queues the goodbye (every record with TTL 0, RFC 6762 §10.1); nothing is sent after it. */
  close(): void {
    if (this.#closed) return
    this.#closed = true
    this.#outbox.push({ packet: announcementPacket(this.#announcement, { goodbye: true }), to: null })
  }

  #announce(now: number): void {
    this.#outbox.push({ packet: announcementPacket(this.#announcement), to: null })
    this.#answeredAt = now
    this.#announcementsLeft--
    this.#announceAt = this.#announcementsLeft > 0 ? now + ANNOUNCE_INTERVAL_MS : Number.POSITIVE_INFINITY
  }

  /**
   * A query for one of our names from a port other than the group's (legacy unicast, RFC 6762 §6.7)
   * is answered to its source, within the amplification bounds; any other with the whole announcement
   * to the group, at most once a second (§6) and not when its known answers hold our record (§7.1).
   */
  #onQuery(
    query: { id: number; questions: unknown[]; answers: unknown[] },
    from: Endpoint,
    now: number,
    bytes: number,
  ) {
    const questions = questionsFor(query.questions, this.#names)
    if (questions.length === 0) return
    if (from.port !== this.#groupPort) {
      this.#answerLegacy({ id: query.id, questions }, from, now, bytes)
      return
    }
    if (knowsOurs(query.answers, this.#names[1]!) || now - this.#answeredAt < MIN_ANSWER_INTERVAL_MS) return
    this.#answeredAt = now
    this.#outbox.push({ packet: announcementPacket(this.#announcement), to: null })
  }

  #answerLegacy(query: { id: number; questions: Question[] }, to: Endpoint, now: number, bytes: number) {
    const second = this.#legacyAnswers
    if (now - second.start >= 1_000) Object.assign(second, { start: now, count: 0 })
    if (second.count >= MAX_LEGACY_ANSWERS_PER_S) return
    const packet = legacyUnicastAnswer(this.#announcement, query, MAX_ANSWER_RATIO * bytes)
    if (packet === null) return
    second.count++
    this.#outbox.push({ packet, to })
  }

  #onResponse(records: unknown[], from: Endpoint, now: number): void {
    for (const instance of instancesIn(records)) {
      if (instance.name === this.#names[1]) continue
      const peer = { host: from.host, port: instance.port }
      if (instance.ttl === 0) this.#forget(instance.name, peer)
      else this.#see(instance.name, peer, now)
    }
  }

  #see(instance: string, peer: Endpoint, now: number): void {
    const known = this.#known.get(instance)
    const same = known !== undefined && known.peer.host === peer.host && known.peer.port === peer.port
    if (same && now - known.reportedAt < PEER_REFRESH_MS) return
    this.#known.set(instance, { peer, reportedAt: now })
    this.#events.push({ type: 'peer', peer, instance })
  }

  #forget(instance: string, peer: Endpoint): void {
    if (this.#known.delete(instance)) this.#events.push({ type: 'gone', peer, instance })
  }

  #onLink(host: string): boolean {
    const address = ipToBytes(host)
    const { address: own, mask } = this.#link
    return address?.length === 4 && mask.every((byte, i) => (address[i]! & byte) === (own[i]! & byte))
  }
}

/** The four bytes of an IPv4 address or netmask; anything else is the caller's error. */
function ipv4Bytes(text: string): Uint8Array {
  const bytes = ipToBytes(text)
  if (bytes?.length !== 4) throw new TypeError(`not an IPv4 address: ${text}`)
  return bytes
}
