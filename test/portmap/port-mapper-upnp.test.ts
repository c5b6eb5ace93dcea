/** PortMapper over UPnP IGD: SSDP + description + SOAP against loopback fakes (spec/portmap.md §5). */
import t, { type Test } from 'tap'
import { PortMapper, type PortMapperOptions } from '../../lib/portmap/index.js'
import { type IgdOptions, igdFake, ssdpHandler, udpFake } from './helpers/fake-gateway.js'

async function setup(t: Test, igdOptions: IgdOptions = {}, upnp: PortMapperOptions['upnp'] = {}) {
  const igd = await igdFake(igdOptions)
  const ssdp = await udpFake(ssdpHandler(igd.descriptionUrl))
  const mapper = await PortMapper.create({
    gateway: '127.0.0.1',
    protocols: ['upnp'],
    upnp: { ssdp: { host: '127.0.0.1', port: ssdp.port }, ...upnp },
  })
  t.teardown(async () => {
    await mapper.close().catch(() => {})
    await ssdp.close()
    await igd.close()
  })
  return { igd, ssdp, mapper }
}

t.test(
  'SSDP finds the IGD; AddPortMapping for our address; a reserved external address is usable',
  async (t) => {
    const { igd, ssdp, mapper } = await setup(t)
    const mapping = await mapper.map({ protocol: 'tcp', internalPort: 40000, lifetimeS: 600 })
    t.match(mapping, { method: 'upnp', protocol: 'tcp', externalHost: '203.0.113.2', externalPort: 40000 })
    t.match(ssdp.received[0]!.toString(), /^M-SEARCH \* HTTP\/1\.1\r\n/)
    const add = igd.calls.find((c) => c.action === 'AddPortMapping')!
    t.equal(add.serviceType, 'urn:schemas-upnp-org:service:WANIPConnection:2')
    t.same(add.args, {
      NewRemoteHost: '',
      NewExternalPort: '40000',
      NewProtocol: 'TCP',
      NewInternalPort: '40000',
      NewInternalClient: '127.0.0.1',
      NewEnabled: '1',
      NewPortMappingDescription: 'pairctl',
      NewLeaseDuration: '600',
    })
    t.equal(await mapper.externalAddress(), '203.0.113.2')
    await mapper.close()
    t.same(igd.calls.at(-1), {
      action: 'DeletePortMapping',
      serviceType: 'urn:schemas-upnp-org:service:WANIPConnection:2',
      args: { NewRemoteHost: '', NewExternalPort: '40000', NewProtocol: 'TCP' },
    })
    t.equal(igd.mappings.size, 0)
  },
)

t.test('725 OnlyPermanentLeasesSupported retries with lease 0: permanent mapping', async (t) => {
  const { igd, mapper } = await setup(t, { faults: { AddPortMapping: [725] } })
  const mapping = await mapper.map({ protocol: 'udp', internalPort: 40001 })
  t.equal(mapping.expiresAt, Number.POSITIVE_INFINITY)
  const leases = igd.calls.filter((c) => c.action === 'AddPortMapping').map((c) => c.args.NewLeaseDuration)
  t.same(leases, ['7200', '0'])
})

t.test('718 ConflictInMappingEntry retries with another external port', async (t) => {
  const { igd, mapper } = await setup(t, { faults: { AddPortMapping: [718] } })
  const mapping = await mapper.map({ protocol: 'udp', internalPort: 40001 })
  const ports = igd.calls
    .filter((c) => c.action === 'AddPortMapping')
    .map((c) => Number(c.args.NewExternalPort))
  t.equal(ports.length, 2)
  t.equal(ports[0], 40001)
  t.equal(mapping.externalPort, ports[1])
  t.ok(igd.mappings.has(`UDP:${ports[1]}`))
})

t.test('repeated 718 gives up with PORTMAP_SOAP_FAULT 718; other faults are not retried', async (t) => {
  const { igd, mapper } = await setup(t, { faults: { AddPortMapping: [718, 718, 718, 718, 606] } })
  await t.rejects(mapper.map({ protocol: 'tcp', internalPort: 1 }), {
    code: 'PORTMAP_SOAP_FAULT',
    resultCode: 718,
  })
  t.equal(igd.calls.filter((c) => c.action === 'AddPortMapping').length, 4)
  await t.rejects(mapper.map({ protocol: 'tcp', internalPort: 1 }), {
    code: 'PORTMAP_SOAP_FAULT',
    resultCode: 606,
  })
  t.equal(igd.calls.filter((c) => c.action === 'AddPortMapping').length, 5)
})

t.test(
  'a fixed description URL skips SSDP; a description without WAN service is PORTMAP_NO_SERVICE',
  async (t) => {
    const igd = await igdFake({ description: '<root><serviceList></serviceList></root>' })
    t.teardown(() => igd.close())
    const mapper = await PortMapper.create({
      gateway: '127.0.0.1',
      protocols: ['upnp'],
      upnp: { descriptionUrl: igd.descriptionUrl },
    })
    await t.rejects(mapper.externalAddress(), { code: 'PORTMAP_NO_SERVICE', method: 'upnp' })
    await mapper.close()
  },
)

t.test(
  'SSDP replies with LOCATION off the sender, or from another host than the gateway, are ignored',
  async (t) => {
    const igd = await igdFake()
    const decoys = [
      Buffer.from('HTTP/1.1 200 OK\r\nST: x\r\nLOCATION: http://198.51.100.1:5000/rootDesc.xml\r\n\r\n'),
      Buffer.from('garbage\u0000\u0001'),
    ]
    const ssdp = await udpFake(ssdpHandler('http://198.51.100.1:5000/rootDesc.xml', decoys))
    t.teardown(async () => {
      await ssdp.close()
      await igd.close()
    })
    const honest = await udpFake(ssdpHandler(igd.descriptionUrl))
    t.teardown(() => honest.close())
    const create = (gateway: string, port: number) =>
      PortMapper.create({ gateway, protocols: ['upnp'], upnp: { ssdp: { host: '127.0.0.1', port } } })
    const steered = await create('127.0.0.1', ssdp.port)
    const notGateway = await create('127.0.0.2', honest.port)
    await Promise.all([
      t.rejects(steered.externalAddress(), { code: 'PORTMAP_TIMEOUT', method: 'upnp' }),
      t.rejects(notGateway.externalAddress(), { code: 'PORTMAP_TIMEOUT', method: 'upnp' }),
    ])
    t.equal(igd.calls.length, 0, 'no HTTP request went anywhere')
    await steered.close()
    await notGateway.close()
  },
)

t.test('a SOAP fault on GetExternalIPAddress and a garbage external address are typed errors', async (t) => {
  const faulty = await setup(t, { faults: { GetExternalIPAddress: [501] } })
  await t.rejects(faulty.mapper.externalAddress(), { code: 'PORTMAP_SOAP_FAULT', resultCode: 501 })
  const junk = await setup(t, { externalAddress: 'not-an-ip' })
  await t.rejects(junk.mapper.externalAddress(), { code: 'PORTMAP_MALFORMED' })
})
