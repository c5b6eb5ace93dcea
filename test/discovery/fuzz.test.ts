/** Property tests of mDNS record handling (`spec/discovery.md`) against arbitrary packets and bytes. */
import dnsPacket from 'dns-packet'
import fc from 'fast-check'
import t from 'tap'
import { type DiscoveryEvent, LanDiscoveryCore } from '../../lib/discovery/core.js'
import { announcementPacket, serviceQuery } from '../../lib/discovery/records.js'
import { cborValue, garbageOr, runs } from '../fuzz/helpers/arbitraries.js'

const link = { address: '192.168.1.2', netmask: '255.255.255.0' }
const announcement = fc.record({
  label: fc.stringMatching(/^pairctl-[0-9a-f]{8}$/),
  address: fc.integer({ min: 3, max: 254 }).map((host) => `192.168.1.${host}`),
  port: fc.integer({ min: 1, max: 65535 }),
})

function core(): LanDiscoveryCore {
  return new LanDiscoveryCore({ link, port: 4000, groupPort: 5353, label: 'pairctl-00000000', now: 0 })
}

function events(of: LanDiscoveryCore): DiscoveryEvent[] {
  const out: DiscoveryEvent[] = []
  for (let event = of.nextEvent(); event !== null; event = of.nextEvent()) out.push(event)
  return out
}

/** Everything the core queued must encode: what it sends is never malformed, whatever it was fed. */
function transmitsEncode(of: LanDiscoveryCore): boolean {
  for (let tx = of.pollTransmit(); tx !== null; tx = of.pollTransmit()) dnsPacket.encode(tx.packet)
  return true
}

t.test(
  'an announcement survives the wire: its sender is found at its port, its goodbye removes it',
  async (t) => {
    fc.assert(
      fc.property(announcement, (a) => {
        const listener = core()
        const from = { host: a.address, port: 5353 }
        listener.receive(dnsPacket.decode(dnsPacket.encode(announcementPacket(a))), from, 1)
        listener.receive(
          dnsPacket.decode(dnsPacket.encode(announcementPacket(a, { goodbye: true }))),
          from,
          2,
        )
        const [found, gone] = events(listener)
        return (
          found?.type === 'peer' &&
          found.peer.host === a.address &&
          found.peer.port === a.port &&
          gone?.type === 'gone' &&
          gone.instance === found.instance
        )
      }),
      runs(300),
    )
    t.pass('300 announcements round-tripped')
  },
)

t.test(
  'garbage and mutated packets: decode throws or the core drops them; what it sends still encodes',
  async (t) => {
    const samples = fc
      .sample(announcement, { numRuns: 4, seed: 8 })
      .map((a) => Uint8Array.from(dnsPacket.encode(announcementPacket(a))))
    samples.push(Uint8Array.from(dnsPacket.encode(serviceQuery())))
    let decoded = 0
    fc.assert(
      fc.property(garbageOr(samples, 300), (bytes) => {
        let packet: unknown
        try {
          packet = dnsPacket.decode(Buffer.from(bytes))
        } catch {
          return true // multicast-dns drops what dns-packet cannot decode
        }
        decoded++
        const listener = core()
        listener.receive(packet, { host: '192.168.1.9', port: 5353 }, 1)
        return transmitsEncode(listener) && events(listener).every((e) => e.peer.host === '192.168.1.9')
      }),
      runs(2000),
    )
    t.ok(decoded > 100, `many mutations still decoded and reached the core (${decoded})`)
  },
)

t.test('arbitrary values in place of packets and records never throw out of the core', async (t) => {
  const packet = dnsPacket.decode(
    dnsPacket.encode(announcementPacket({ label: 'pairctl-0000000a', address: '192.168.1.7', port: 9 })),
  )
  const value = fc.oneof(
    cborValue,
    fc.record({
      type: fc.constantFrom('query', 'response'),
      questions: fc.array(cborValue),
      answers: fc.array(cborValue),
      additionals: fc.array(cborValue),
    }),
    fc
      .tuple(
        fc.constantFrom('answers', 'additionals', 'questions'),
        fc.nat(),
        fc.constantFrom('name', 'type', 'ttl', 'data'),
        cborValue,
      )
      .map(([section, index, field, item]) => {
        const copy = structuredClone(packet) as unknown as Record<string, Record<string, unknown>[]>
        const records = copy[section]!
        if (records.length > 0) records[index % records.length]![field] = item
        return copy
      }),
  )
  fc.assert(
    fc.property(value, (v) => {
      const listener = core()
      listener.receive(v, { host: '192.168.1.7', port: 5353 }, 1)
      return (
        transmitsEncode(listener) &&
        events(listener).every((e) => e.type === 'peer' && e.peer.host === '192.168.1.7')
      )
    }),
    runs(1500),
  )
  t.pass('1500 arbitrary packets were dropped or handled')
})
