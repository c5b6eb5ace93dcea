import { readFileSync } from 'node:fs'
import dnsPacket from 'dns-packet'
import t from 'tap'
import { LanDiscoveryCore } from '../../lib/discovery/core.js'
import { announcementPacket, legacyUnicastAnswer, serviceQuery } from '../../lib/discovery/records.js'

const vectors = JSON.parse(
  readFileSync(new URL('../../spec/vectors/discovery.json', import.meta.url), 'utf8'),
)
const hex = (packet: Parameters<typeof dnsPacket.encode>[0]) =>
  Buffer.from(dnsPacket.encode(packet)).toString('hex')

/** A DNS name in wire form (RFC 1035 §3.1): length-prefixed labels, then a zero byte. */
function wireName(name: string): string {
  return `${name
    .split('.')
    .map((label) => Buffer.concat([Buffer.from([label.length]), Buffer.from(label)]).toString('hex'))
    .join('')}00`
}

t.test('the query is the header and one PTR question for _pairctl._udp.local, byte for byte', async (t) => {
  // id 0, flags 0, 1 question, no records (RFC 6762 §18); QTYPE PTR (12), QCLASS IN (1).
  const byHand = `000000000001000000000000${wireName('_pairctl._udp.local')}000c0001`
  t.equal(vectors.query, byHand)
  t.equal(hex(serviceQuery()), vectors.query)
})

t.test('the announcement, its goodbye and a legacy unicast answer encode as the vectors', async (t) => {
  const { announcement } = vectors
  t.equal(hex(announcementPacket(announcement)), vectors.response)
  t.equal(hex(announcementPacket(announcement, { goodbye: true })), vectors.goodbye)
  const { queryId, queryBytes, maxBytes } = vectors.legacyUnicastResponse
  const query = { ...serviceQuery(), id: queryId }
  t.equal(dnsPacket.encode(query).length, queryBytes)
  const legacy = legacyUnicastAnswer(announcement, query, maxBytes)
  t.equal(legacy && hex(legacy), vectors.legacyUnicastResponse.hex)
  // id 4242, QR and AA, the question back, the PTR alone with TTL 10 (RFC 6762 §6.7), 106 ≤ 3 × 37 bytes.
  const ptr = `${wireName('_pairctl._udp.local')}000c00010000000a0026${wireName('pairctl-0123abcd._pairctl._udp.local')}`
  t.equal(
    vectors.legacyUnicastResponse.hex,
    `109284000001000100000000${wireName('_pairctl._udp.local')}000c0001${ptr}`,
  )
  // The header: id 0, flags 0x8400 (QR and AA), 0 questions, 1 answer, 0 authority, 3 additionals.
  t.equal(vectors.response.slice(0, 24), '000084000000000100000003')
  // The A record ends the packet: the address 192.168.1.2.
  t.ok(vectors.response.endsWith(`${wireName('pairctl-0123abcd.local')}0001800100000078${'0004'}c0a80102`))
})

t.test('a receiver reads the vector as a peer at the source address and the SRV port', async (t) => {
  const core = new LanDiscoveryCore({
    link: { address: '192.168.1.3', netmask: '255.255.255.0' },
    port: 1,
    now: 0,
  })
  core.receive(dnsPacket.decode(Buffer.from(vectors.response, 'hex')), { host: '192.168.1.2', port: 5353 }, 0)
  t.match(core.nextEvent(), {
    type: 'peer',
    peer: { host: '192.168.1.2', port: 49737 },
    instance: 'pairctl-0123abcd._pairctl._udp.local',
  })
  core.receive(dnsPacket.decode(Buffer.from(vectors.goodbye, 'hex')), { host: '192.168.1.2', port: 5353 }, 0)
  t.match(core.nextEvent(), { type: 'gone' })
})
