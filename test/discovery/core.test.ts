import dnsPacket, { type Question } from 'dns-packet'
import t from 'tap'
import { SERVICE_TYPE } from '../../lib/discovery/constants.js'
import { type DiscoveryEvent, LanDiscoveryCore } from '../../lib/discovery/core.js'
import { announcementPacket, serviceQuery } from '../../lib/discovery/records.js'

const link = { address: '192.168.1.2', netmask: '255.255.255.0' }
const GROUP = 5353

/** A core at `address` on the 192.168.1.0/24 link, its DHT on `port`. */
function node(address: string, port: number, now = 0) {
  return new LanDiscoveryCore({ link: { ...link, address }, port, groupPort: GROUP, now })
}

/** Everything `from` has queued, as the bytes a socket would carry, decoded as a receiver would. */
function drain(from: LanDiscoveryCore) {
  const out = []
  for (let tx = from.pollTransmit(); tx !== null; tx = from.pollTransmit())
    out.push({ to: tx.to, packet: dnsPacket.decode(dnsPacket.encode(tx.packet)) })
  return out
}

function events(core: LanDiscoveryCore): DiscoveryEvent[] {
  const out: DiscoveryEvent[] = []
  for (let e = core.nextEvent(); e !== null; e = core.nextEvent()) out.push(e)
  return out
}

/** Delivers what `from` queued to each of `to`, as multicast from `from`'s address and the group port. */
function deliver(from: LanDiscoveryCore, to: LanDiscoveryCore[], now: number) {
  for (const { packet } of drain(from))
    for (const core of to) core.receive(packet, { host: from.address, port: GROUP }, now)
}

t.test('two nodes on one link find each other at the source address and the SRV port', async (t) => {
  const a = node('192.168.1.2', 4001)
  const b = node('192.168.1.3', 4002)
  deliver(a, [b], 0)
  deliver(b, [a], 0)
  t.match(events(b), [
    { type: 'peer', peer: { host: '192.168.1.2', port: 4001 }, instance: `${a.label}.${SERVICE_TYPE}` },
  ])
  t.match(events(a), [{ type: 'peer', peer: { host: '192.168.1.3', port: 4002 } }])
})

t.test('a query is answered with the announcement; our own echo is not a peer', async (t) => {
  const a = node('192.168.1.2', 4001)
  const b = node('192.168.1.3', 4002)
  drain(a)
  drain(b)
  const query = dnsPacket.decode(dnsPacket.encode(serviceQuery()))
  a.receive(query, { host: '192.168.1.3', port: GROUP }, 5_000)
  const [answer] = drain(a)
  t.equal(answer?.to, null, 'to the group')
  b.receive(answer!.packet, { host: '192.168.1.2', port: GROUP }, 5_000)
  a.receive(answer!.packet, { host: '192.168.1.2', port: GROUP }, 5_000)
  t.equal(events(b).length, 1)
  t.same(events(a), [], 'a hears its own multicast and ignores it')
})

t.test('answers go to the group at most once a second, and not when the asker already knows', async (t) => {
  const a = node('192.168.1.2', 4001)
  drain(a)
  const query = dnsPacket.decode(dnsPacket.encode(serviceQuery()))
  const from = { host: '192.168.1.3', port: GROUP }
  for (let i = 0; i < 1_000; i++) a.receive(query, from, 10_000 + i * 0.9)
  t.equal(drain(a).length, 1, 'a flood of 1,000 queries within a second gets one answer')
  const knowing = dnsPacket.decode(
    dnsPacket.encode({
      ...serviceQuery(),
      answers: [announcementPacket({ label: a.label, address: a.address, port: 4001 }).answers[0]!],
    }),
  )
  a.receive(knowing, from, 20_000)
  t.equal(drain(a).length, 0, 'known-answer suppression')
  a.receive(query, from, 30_000)
  t.equal(drain(a).length, 1)
})

t.test('a legacy unicast query (not from port 5353) gets a unicast answer with its id', async (t) => {
  const a = node('192.168.1.2', 4001)
  drain(a)
  const bytes = dnsPacket.encode({ ...serviceQuery(), id: 4242 })
  a.receive(dnsPacket.decode(bytes), { host: '192.168.1.9', port: 50_000 }, 1_000, bytes.length)
  const [answer] = drain(a)
  t.same(answer?.to, { host: '192.168.1.9', port: 50_000 })
  t.equal(answer?.packet.id, 4242)
  t.match(answer?.packet.questions, [{ name: SERVICE_TYPE, type: 'PTR' }])
  t.match(answer?.packet.answers, [{ type: 'PTR', name: SERVICE_TYPE, ttl: 10 }], 'the PTR, TTL 10 s (§6.7)')
  t.equal(answer?.packet.additionals?.length, 0)
})

t.test('a legacy unicast answer is at most 3× its query, whichever name and type it asks', async (t) => {
  const a = node('192.168.1.2', 4001)
  drain(a)
  const names = [SERVICE_TYPE, `${a.label}.${SERVICE_TYPE}`, `${a.label}.local`]
  const types = ['PTR', 'SRV', 'TXT', 'A', 'ANY'] as const
  let now = 10_000
  let answered = 0
  for (const name of names)
    for (const type of types) {
      const question = { name, type: type as Question['type'] } // dns-packet's types omit ANY
      const bytes = dnsPacket.encode({ type: 'query', id: 7, questions: [question] })
      now += 1_000
      a.receive(dnsPacket.decode(bytes), { host: '192.168.1.9', port: 50_000 }, now, bytes.length)
      for (const { packet } of drain(a)) {
        answered++
        const reply = dnsPacket.encode(packet).length
        t.ok(reply <= 3 * bytes.length, `${name} ${type}: ${reply} bytes for ${bytes.length}`)
        t.ok(packet.answers?.length, 'and it answers something')
        t.notOk(
          packet.answers?.some((r) => (r as { flush?: boolean }).flush),
          'no cache-flush bit in a legacy answer (§6.7)',
        )
      }
    }
  // PTR/ANY of the service type, SRV/TXT/ANY of the instance, A/ANY of the host.
  t.equal(answered, 7, 'every question that names one of our records got an answer')
})

t.test('a flood of legacy unicast queries gets at most 10 answers a second', async (t) => {
  const a = node('192.168.1.2', 4001)
  drain(a)
  const bytes = dnsPacket.encode(serviceQuery())
  const query = dnsPacket.decode(bytes)
  for (let i = 0; i < 1_000; i++)
    a.receive(query, { host: `192.168.1.${10 + (i % 200)}`, port: 40_000 + i }, 10_000 + i, bytes.length)
  t.equal(drain(a).length, 10, '1,000 queries from 200 hosts in one second: 10 answers')
  a.receive(query, { host: '192.168.1.9', port: 50_000 }, 11_000, bytes.length)
  t.equal(drain(a).length, 1, 'answered again in the next second')
})

t.test('a legacy unicast query whose length is not known is not answered', async (t) => {
  const a = node('192.168.1.2', 4001)
  drain(a)
  a.receive(dnsPacket.decode(dnsPacket.encode(serviceQuery())), { host: '192.168.1.9', port: 50_000 }, 1_000)
  t.equal(drain(a).length, 0)
})

t.test('announcements from off the link, malformed packets and other services are dropped', async (t) => {
  const a = node('192.168.1.2', 4001)
  const b = node('192.168.1.3', 4002)
  const [announcement] = drain(b)
  a.receive(announcement!.packet, { host: '10.0.0.3', port: GROUP }, 0)
  a.receive(announcement!.packet, { host: 'fe80::1', port: GROUP }, 0)
  for (const junk of [
    null,
    42,
    'x',
    { type: 'response', answers: 'nope' },
    { type: 'response', answers: [{ type: 'PTR' }] },
  ])
    a.receive(junk, { host: '192.168.1.3', port: GROUP }, 0)
  const otherService = dnsPacket.decode(
    dnsPacket.encode({
      type: 'response',
      answers: [{ name: '_http._tcp.local', type: 'PTR', data: 'x._http._tcp.local' }],
    }),
  )
  a.receive(otherService, { host: '192.168.1.3', port: GROUP }, 0)
  const noVersion = dnsPacket.decode(
    dnsPacket.encode({
      type: 'response',
      answers: [{ name: SERVICE_TYPE, type: 'PTR', data: `old.${SERVICE_TYPE}` }],
      additionals: [{ name: `old.${SERVICE_TYPE}`, type: 'SRV', data: { port: 9, target: 'old.local' } }],
    }),
  )
  a.receive(noVersion, { host: '192.168.1.3', port: GROUP }, 0)
  t.same(events(a), [])
})

t.test('a goodbye is reported; seen again after a minute, a peer is reported again', async (t) => {
  const a = node('192.168.1.2', 4001)
  const b = node('192.168.1.3', 4002)
  const [first] = drain(b)
  const from = { host: '192.168.1.3', port: GROUP }
  a.receive(first!.packet, from, 0)
  a.receive(first!.packet, from, 30_000)
  t.equal(events(a).length, 1, 'within a minute: once')
  a.receive(first!.packet, from, 61_000)
  t.equal(events(a).length, 1, 'after a minute: again')
  b.close()
  const [goodbye] = drain(b)
  const records = [...(goodbye!.packet.answers ?? []), ...(goodbye!.packet.additionals ?? [])]
  t.ok(
    records.length === 4 && records.every((record) => 'ttl' in record && record.ttl === 0),
    'every record has TTL 0',
  )
  a.receive(goodbye!.packet, from, 62_000)
  t.match(events(a), [{ type: 'gone', peer: { host: '192.168.1.3', port: 4002 } }])
  t.equal(b.pollTimeout(), null, 'nothing scheduled after close')
})

t.test('two announcements a second apart, then queries at doubling intervals', async (t) => {
  const a = node('192.168.1.2', 4001, 0)
  const sent = drain(a).map(({ packet }) => ({ at: 0, type: packet.type }))
  for (let now = a.pollTimeout()!; now < 20_000; now = a.pollTimeout()!) {
    a.handleTimeout(now)
    for (const { packet } of drain(a)) sent.push({ at: now, type: packet.type })
  }
  t.same(
    sent.filter((s) => s.type === 'response').map((s) => s.at),
    [0, 1_000],
  )
  t.same(
    sent.filter((s) => s.type === 'query').map((s) => s.at),
    [0, 1_000, 3_000, 7_000, 15_000],
  )
})

t.test(
  'the peer is the source address, never the A record (no traffic sent to a named third host)',
  async (t) => {
    const a = node('192.168.1.2', 4001)
    const liar = announcementPacket({ label: 'pairctl-deadbeef', address: '203.0.113.99', port: 4444 })
    a.receive(dnsPacket.decode(dnsPacket.encode(liar)), { host: '192.168.1.3', port: GROUP }, 0)
    t.match(events(a), [{ type: 'peer', peer: { host: '192.168.1.3', port: 4444 } }])
  },
)
