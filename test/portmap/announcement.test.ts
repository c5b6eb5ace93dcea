/** Gateway announcements (RFC 6886 §3.2.1, RFC 6887 §14.1.3; spec/portmap.md §6) against a loopback fake. */
import dgram from 'node:dgram'
import t from 'tap'
import { decodeAnnouncement } from '../../lib/portmap/announcement.js'
import { PortMapper } from '../../lib/portmap/index.js'
import { until } from './helpers/fake-clock.js'
import { pmpHandler, udpFake } from './helpers/fake-gateway.js'

/** PCP ANNOUNCE response: version 2, R bit | opcode 0, result 0, lifetime 0, epoch, 12 reserved bytes. */
function pcpAnnounce(epoch: number): Uint8Array {
  const bytes = new Uint8Array(24)
  const view = new DataView(bytes.buffer)
  bytes[0] = 2
  bytes[1] = 0x80
  view.setUint32(8, epoch)
  return bytes
}

/** NAT-PMP external address response: version 0, op 128, result 0, epoch, the address. */
function natPmpAnnounce(epoch: number): Uint8Array {
  const bytes = new Uint8Array([0, 128, 0, 0, 0, 0, 0, 0, 203, 0, 113, 7])
  new DataView(bytes.buffer).setUint32(4, epoch)
  return bytes
}

t.test('decodes PCP and NAT-PMP announcements and nothing else', async (t) => {
  t.same(decodeAnnouncement(pcpAnnounce(7)), { method: 'pcp', epoch: 7 })
  t.same(decodeAnnouncement(natPmpAnnounce(9)), { method: 'natpmp', epoch: 9 })
  const failed = natPmpAnnounce(9)
  failed[3] = 3
  t.equal(decodeAnnouncement(failed), null, 'a non-zero result')
  const mapResponse = pcpAnnounce(7)
  mapResponse[1] = 0x81
  t.equal(decodeAnnouncement(mapResponse), null, 'a MAP response is no announcement')
  for (const junk of [new Uint8Array(0), new Uint8Array([2]), new Uint8Array(1200).fill(0xff)])
    t.equal(decodeAnnouncement(junk), null)
})

async function freePort(): Promise<number> {
  const socket = dgram.createSocket('udp4')
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve))
  const { port } = socket.address()
  await new Promise<void>((resolve) => socket.close(() => resolve()))
  return port
}

t.test(
  'an announcement from the gateway renews every mapping at once; one from elsewhere is ignored',
  async (t) => {
    const fake = await udpFake(pmpHandler({ epoch: 1000 }))
    const announcementPort = await freePort()
    const mapper = await PortMapper.create({
      gateway: '127.0.0.1',
      gatewayPort: fake.port,
      protocols: ['pcp'],
      announcementPort,
    })
    t.teardown(async () => {
      await mapper.close().catch(() => {})
      await fake.close()
    })
    await mapper.map({ protocol: 'udp', internalPort: 40000, lifetimeS: 7200 })
    await mapper.map({ protocol: 'tcp', internalPort: 40000, lifetimeS: 7200 })
    const mapsBefore = fake.received.length

    const stranger = dgram.createSocket('udp4')
    await new Promise<void>((resolve) => stranger.bind(0, '127.0.0.1', resolve))
    await new Promise<void>((resolve) =>
      stranger.send(pcpAnnounce(0), announcementPort, '127.0.0.1', () => resolve()),
    )
    stranger.close()
    await new Promise((resolve) => setTimeout(resolve, 200))
    t.equal(mapper.counters.announcements, 0, 'a datagram not from the gateway is no announcement')
    t.equal(fake.received.length, mapsBefore)

    const renewed: string[] = []
    mapper.on('renewed', (mapping) => renewed.push(mapping.protocol))
    await fake.send(pcpAnnounce(0), announcementPort)
    await until(() => renewed.length === 2, 5_000)
    t.equal(mapper.counters.announcements, 1)
    t.same(renewed.sort(), ['tcp', 'udp'], 'both mappings made again, an hour before their renewal was due')
  },
)
