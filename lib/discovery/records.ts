import dnsPacket, { type Answer, type Packet, type Question } from 'dns-packet'
import { z } from 'zod'
import {
  HOST_RECORD_TTL_S,
  LEGACY_UNICAST_TTL_S,
  SERVICE_RECORD_TTL_S,
  SERVICE_TYPE,
  TXT_VERSION,
} from './constants.js'

/** What a node announces (`spec/discovery.md` §2): a random label, its interface address, its DHT port. */
export interface Announcement {
  /** The random instance label, new at every start (`pairctl-` and 8 hex digits). */
  label: string
  /** The IPv4 address of the interface the announcement goes out on. */
  address: string
  /** The node's DHT UDP port. */
  port: number
}

/** A service instance read from a response (`spec/discovery.md` §3). */
export interface SeenInstance {
  /** The instance's full name, `<label>._pairctl._udp.local`. */
  name: string
  port: number
  /** 0: a goodbye (RFC 6762 §10.1), the instance is leaving. */
  ttl: number
}

/** The DNS names of an announcement: service instance and host. */
export function namesOf(label: string): { instance: string; host: string } {
  return { instance: `${label}.${SERVICE_TYPE}`, host: `${label}.local` }
}

/**
 * The four records of an announcement (RFC 6763 §4-§6): PTR service type → instance, SRV instance →
 * host and port, TXT with the DHT version, A host → address. TTL 0 in every record is the goodbye.
 */
export function announcementRecords(announcement: Announcement, goodbye = false): Answer[] {
  const { instance, host } = namesOf(announcement.label)
  const ttl = (normal: number) => (goodbye ? 0 : normal)
  return [
    { name: SERVICE_TYPE, type: 'PTR', ttl: ttl(SERVICE_RECORD_TTL_S), data: instance },
    {
      name: instance,
      type: 'SRV',
      ttl: ttl(HOST_RECORD_TTL_S),
      flush: true,
      data: { priority: 0, weight: 0, port: announcement.port, target: host },
    },
    { name: instance, type: 'TXT', ttl: ttl(SERVICE_RECORD_TTL_S), flush: true, data: [TXT_VERSION] },
    { name: host, type: 'A', ttl: ttl(HOST_RECORD_TTL_S), flush: true, data: announcement.address },
  ]
}

/** A query packet as built here. */
export type QueryPacket = Packet & { type: 'query'; questions: Question[] }
/** A response packet as built here. */
export type ResponsePacket = Packet & { type: 'response'; answers: Answer[] }

/** A multicast response carrying the announcement: PTR as the answer, the rest as additionals. */
export function announcementPacket(
  announcement: Announcement,
  options: { goodbye?: boolean } = {},
): ResponsePacket {
  const [ptr, ...rest] = announcementRecords(announcement, options.goodbye ?? false)
  return {
    type: 'response',
    id: 0,
    flags: AUTHORITATIVE_ANSWER,
    questions: [],
    answers: [ptr!],
    additionals: rest,
  }
}

/**
 * The answer to a legacy unicast query (RFC 6762 §6.7): the query's id and questions back, then the
 * announcement's records that answer a question, in order, TTL at most 10 s and no cache-flush bit,
 * as many as fit in `maxBytes` (the amplification bound, `spec/discovery.md` §3.3). Null if none fits.
 */
export function legacyUnicastAnswer(
  announcement: Announcement,
  query: { id: number; questions: Question[] },
  maxBytes: number,
): ResponsePacket | null {
  const answers: Answer[] = []
  const packet: ResponsePacket = {
    type: 'response',
    id: query.id,
    flags: AUTHORITATIVE_ANSWER,
    questions: query.questions,
    answers,
  }
  for (const record of announcementRecords(announcement)) {
    if (!query.questions.some((q) => asks(q, record))) continue
    const ttl = Math.min((record as { ttl: number }).ttl, LEGACY_UNICAST_TTL_S)
    answers.push({ ...record, ttl, flush: false } as Answer)
    if (dnsPacket.encodingLength(packet) > maxBytes) answers.pop()
  }
  return answers.length > 0 ? packet : null
}

function asks(question: Question, record: Answer): boolean {
  const sameName = question.name.toLowerCase() === record.name.toLowerCase()
  return sameName && ((question.type as string) === 'ANY' || question.type === record.type)
}

/** The query every node sends: who offers `_pairctl._udp.local`? */
export function serviceQuery(): QueryPacket {
  return { type: 'query', id: 0, flags: 0, questions: [{ name: SERVICE_TYPE, type: 'PTR' }] }
}

/** The AA bit of the DNS header (RFC 1035 §4.1.1), set in every mDNS response (RFC 6762 §18.4). */
export const AUTHORITATIVE_ANSWER = 1 << 10

const name = z.string().max(255)
const ttl = z.number().int().nonnegative()
const ptrRecord = z.object({ type: z.literal('PTR'), name, ttl, data: name })
const srvRecord = z.object({
  type: z.literal('SRV'),
  name,
  ttl,
  data: z.object({ port: z.number().int().min(1).max(65_535), target: name }),
})
const txtRecord = z.object({
  type: z.literal('TXT'),
  name,
  data: z.array(z.instanceof(Uint8Array).or(z.string())),
})
const question = z.object({ name, type: z.string() })
const packetShape = z.object({
  type: z.enum(['query', 'response']),
  id: z.number().int().min(0).max(65_535).default(0),
  questions: z.array(z.unknown()).default([]),
  answers: z.array(z.unknown()).default([]),
  additionals: z.array(z.unknown()).default([]),
})

/** A decoded packet's sections, each record left unchecked until one of the shapes above accepts it. */
export function sectionsOf(packet: unknown) {
  const parsed = packetShape.safeParse(packet)
  return parsed.success ? parsed.data : null
}

/** The questions a responder owning `names` must answer (PTR/SRV/TXT/A or ANY of one of them). */
export function questionsFor(questions: unknown[], names: readonly string[]): Question[] {
  return questions.flatMap((raw) => {
    const q = question.safeParse(raw)
    if (!q.success || !ANSWERABLE.has(q.data.type)) return []
    const asked = q.data.name.toLowerCase()
    return names.some((owned) => owned.toLowerCase() === asked)
      ? [{ name: q.data.name, type: q.data.type as Question['type'] }]
      : []
  })
}

const ANSWERABLE = new Set<string>(['PTR', 'SRV', 'TXT', 'A', 'ANY'])

/** True when a query's known answers already hold our PTR with at least half its TTL (RFC 6762 §7.1). */
export function knowsOurs(answers: unknown[], instance: string): boolean {
  return answers.some((raw) => {
    const ptr = ptrRecord.safeParse(raw)
    return (
      ptr.success &&
      ptr.data.name.toLowerCase() === SERVICE_TYPE &&
      ptr.data.data.toLowerCase() === instance.toLowerCase() &&
      ptr.data.ttl >= SERVICE_RECORD_TTL_S / 2
    )
  })
}

/**
 * The pairctl instances a response names: each PTR of the service type whose instance has an SRV
 * record (the port) and a TXT record with {@link TXT_VERSION} in the same packet. Anything else is
 * ignored; nothing here throws.
 */
export function instancesIn(records: unknown[]): SeenInstance[] {
  const ptrs = records.flatMap((raw) => {
    const ptr = ptrRecord.safeParse(raw)
    return ptr.success && ptr.data.name.toLowerCase() === SERVICE_TYPE ? [ptr.data] : []
  })
  return ptrs.flatMap((ptr) => {
    const instance = ptr.data.toLowerCase()
    if (!instance.endsWith(`.${SERVICE_TYPE}`)) return []
    const srv = records
      .map((raw) => srvRecord.safeParse(raw))
      .find((r) => r.success && r.data.name.toLowerCase() === instance)
    if (srv?.success !== true || !speaksVersion(records, instance)) return []
    return [{ name: instance, port: srv.data.data.port, ttl: ptr.ttl }]
  })
}

function speaksVersion(records: unknown[], instance: string): boolean {
  return records.some((raw) => {
    const txt = txtRecord.safeParse(raw)
    if (!txt.success || txt.data.name.toLowerCase() !== instance) return false
    return txt.data.data.some((entry) => textOf(entry) === TXT_VERSION)
  })
}

function textOf(entry: Uint8Array | string): string {
  return typeof entry === 'string' ? entry : new TextDecoder().decode(entry)
}
