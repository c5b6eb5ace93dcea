/**
 * Amplification of the answers a node gives besides DHT replies: STUN on the DHT port of a bootstrap
 * node (`spec/dht.md` §3.4, `lib/node/bootstrap.ts`) and the LAN discovery responder's legacy unicast
 * answer (`spec/discovery.md` §3.3). Sans I/O: the same server cores the adapters run, fed one request
 * each, answers encoded as they go on the wire.
 */
import dnsPacket, { type Question } from 'dns-packet'
import { LanDiscoveryCore } from '../../lib/discovery/core.js'
import { serviceQuery } from '../../lib/discovery/records.js'
import { answerStunOnDhtPort } from '../../lib/node/bootstrap.js'
import { encodeMessage, StunClass, StunMethod, StunServer } from '../../lib/stun/index.js'

/** One request kind: its bytes and the answer's. */
export interface ForeignFigure {
  name: string
  request: number
  reply: number
  ratio: number
}

const TRANSACTION = new Uint8Array(12).fill(7)

function stunRequest(method: number, attributes: { type: number; value: Uint8Array }[], cookie?: number) {
  return encodeMessage({
    method,
    cls: StunClass.request,
    transactionId: TRANSACTION,
    attributes,
    ...(cookie === undefined ? {} : { cookie }),
  })
}

/**
 * The STUN server a bootstrap node runs on its DHT socket, answering the smallest requests of each
 * kind from an IPv4 and an IPv6 source (the answer echoes the source address, so IPv6 costs more).
 */
export function measureStunOnDhtPort(): ForeignFigure[] {
  const requests = [
    { name: 'Binding (RFC 8489)', bytes: stunRequest(StunMethod.binding, []) },
    { name: 'Binding (RFC 3489 classic)', bytes: stunRequest(StunMethod.binding, [], 0x01020304) },
    {
      name: 'Binding with an unknown attribute (420)',
      bytes: stunRequest(StunMethod.binding, [{ type: 0x7f00, value: new Uint8Array(0) }]),
    },
    { name: 'other method (400)', bytes: stunRequest(0x003, []) },
  ]
  const out: ForeignFigure[] = []
  for (const [family, local, from] of [
    [4, { host: '192.0.2.1', port: 4000 }, { host: '198.51.100.7', port: 40000 }],
    [6, { host: '2001:db8::1', port: 4000 }, { host: '2001:db8:1::7', port: 40000 }],
  ] as const) {
    const server = new StunServer({ primary: local })
    for (const request of requests) {
      const reply = answerStunOnDhtPort(server, request.bytes, from, local)
      if (reply === null) continue
      out.push(figure(`STUN ${request.name}, IPv${family}`, request.bytes.length, reply.length))
    }
  }
  return out
}

/**
 * The discovery responder's answers: a legacy unicast query (source port not 5353) is answered to its
 * source, the worst case over every name and type it answers; a flood of them is answered at most 10
 * times a second; a multicast one goes to the group at most once a second (RFC 6762 §6).
 */
export function measureDiscoveryAnswers(): ForeignFigure[] {
  const core = new LanDiscoveryCore({
    link: { address: '192.168.7.10', netmask: '255.255.255.0' },
    port: 4000,
    label: 'pairctl-0a1b2c3d',
    now: 0,
  })
  while (core.pollTransmit() !== null);
  const names = ['_pairctl._udp.local', 'pairctl-0a1b2c3d._pairctl._udp.local', 'pairctl-0a1b2c3d.local']
  const types = ['PTR', 'SRV', 'TXT', 'A', 'ANY'] as const
  let worst: ForeignFigure | undefined
  let now = 10_000
  for (const name of names)
    for (const type of types) {
      // dns-packet's types omit ANY (255), which it encodes.
      const question = { name, type: type as Question['type'] }
      const bytes = dnsPacket.encode({ type: 'query', id: 99, questions: [question] })
      now += 1_000
      core.receive(dnsPacket.decode(bytes), { host: '192.168.7.20', port: 40000 }, now, bytes.length)
      const reply = sent(core)
      if (reply > 0 && (worst === undefined || reply / bytes.length > worst.ratio))
        worst = figure(`mDNS legacy unicast answer (worst: ${type} ${name})`, bytes.length, reply)
    }
  const query = serviceQuery()
  const bytes = dnsPacket.encode(query)
  const figures = worst === undefined ? [] : [worst]
  let flood = 0
  for (let i = 0; i < 1_000; i++) {
    core.receive(query, { host: '192.168.7.20', port: 40000 + i }, now + i, bytes.length)
    flood += sent(core)
  }
  figures.push(figure('mDNS legacy unicast answers to 1,000 queries in 1 s', 1_000 * bytes.length, flood))
  now += 2_000
  let multicast = 0
  for (let i = 0; i < 100; i++) {
    core.receive(query, { host: '192.168.7.20', port: 5353 }, now + i * 10, bytes.length)
    multicast += sent(core)
  }
  figures.push(figure('mDNS multicast answers to 100 queries in 1 s', 100 * bytes.length, multicast))
  return figures
}

/** The bytes of everything `core` has queued. */
function sent(core: LanDiscoveryCore): number {
  let bytes = 0
  for (let next = core.pollTransmit(); next !== null; next = core.pollTransmit())
    bytes += dnsPacket.encode(next.packet).length
  return bytes
}

function figure(name: string, request: number, reply: number): ForeignFigure {
  return { name, request, reply, ratio: reply / request }
}
