/** PortMapper over NAT-PMP and PCP against a loopback fake gateway (spec/portmap.md §2-§4, §6). */
import { once } from 'node:events'
import t, { type Test } from 'tap'
import { type Mapping, PortMapper, type PortmapError } from '../../lib/portmap/index.js'
import { FakeClock, until } from './helpers/fake-clock.js'
import { type PmpOptions, pmpHandler, type UdpFake, udpFake } from './helpers/fake-gateway.js'

async function setup(t: Test, options: PmpOptions, protocols: ('pcp' | 'natpmp')[], clock?: FakeClock) {
  const fake = await udpFake(pmpHandler(options))
  const mapper = await PortMapper.create({ gateway: '127.0.0.1', gatewayPort: fake.port, protocols, clock })
  t.teardown(async () => {
    await mapper.close().catch(() => {})
    await fake.close()
  })
  return { fake, mapper }
}

const natPmpMaps = (fake: UdpFake) => fake.received.filter((m) => m[0] === 0 && m[1] !== 0)
const pcpMaps = (fake: UdpFake) => fake.received.filter((m) => m[0] === 2)

t.test('NAT-PMP: maps UDP with a reserved external address, deletes on close', async (t) => {
  const { fake, mapper } = await setup(t, { grantPort: 41000, grantLifetime: 3600 }, ['natpmp'])
  const before = Date.now()
  const mapping = await mapper.map({ protocol: 'udp', internalPort: 40000, lifetimeS: 7200 })
  t.match(mapping, { protocol: 'udp', internalPort: 40000, externalHost: '203.0.113.7', externalPort: 41000 })
  t.equal(mapping.method, 'natpmp')
  t.ok(
    mapping.expiresAt >= before + 3600_000 && mapping.expiresAt <= Date.now() + 3600_000,
    'granted lifetime',
  )
  t.same(mapper.mappings(), [mapping])
  t.equal(await mapper.externalAddress(), '203.0.113.7')
  await mapper.close()
  const del = natPmpMaps(fake).at(-1)!
  t.same([...del], [0, 1, 0, 0, 0x9c, 0x40, 0, 0, 0, 0, 0, 0], 'RFC 6886 §3.4 delete')
  t.same(mapper.mappings(), [])
  await t.rejects(mapper.map({ protocol: 'udp', internalPort: 1 }), { code: 'PORTMAP_ABORTED' })
})

t.test(
  'NAT-PMP: a refusal is PORTMAP_REFUSED with the result code; garbage before a reply is dropped',
  async (t) => {
    const { mapper } = await setup(t, { resultCode: 2 }, ['natpmp'])
    await t.rejects(mapper.map({ protocol: 'tcp', internalPort: 5000 }), {
      code: 'PORTMAP_REFUSED',
      resultCode: 2,
      method: 'natpmp',
    })
    const second = await setup(t, { garbageFirst: true }, ['natpmp'])
    t.match(await second.mapper.map({ protocol: 'tcp', internalPort: 5000 }), { externalPort: 5000 })
  },
)

t.test('PCP: MAP carries our address and a nonce; renewals and the delete reuse the nonce', async (t) => {
  const clock = new FakeClock()
  const { fake, mapper } = await setup(t, { grantLifetime: 100 }, ['pcp'], clock)
  const mapping = await mapper.map({ protocol: 'tcp', internalPort: 40002, externalPort: 40003 })
  t.match(mapping, {
    method: 'pcp',
    externalHost: '203.0.113.7',
    externalPort: 40003,
    expiresAt: clock.now() + 100_000,
  })
  const [first] = pcpMaps(fake)
  t.same(
    [...first!.subarray(8, 24)],
    [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 127, 0, 0, 1],
    'client address',
  )
  t.equal(first!.readUInt32BE(4), 7200, 'default lifetime asked')
  const renewed = once(mapper, 'renewed')
  clock.advance(50_000)
  const [again] = (await renewed) as [Mapping]
  t.equal(again.expiresAt, clock.now() + 100_000)
  await mapper.close()
  const [, renewal, del] = pcpMaps(fake)
  t.same(renewal!.subarray(24, 36), first!.subarray(24, 36), 'renewal nonce')
  t.same(del!.subarray(24, 36), first!.subarray(24, 36), 'delete nonce')
  t.equal(del!.readUInt32BE(4), 0, 'delete lifetime 0')
  t.equal(clock.pending(), 0, 'no renewal timer after close')
})

t.test('PCP refused with NO_RESOURCES; a NAT-PMP-only server makes PortMapper fall back', async (t) => {
  const refused = await setup(t, { resultCode: 8 }, ['pcp'])
  await t.rejects(refused.mapper.map({ protocol: 'udp', internalPort: 6000 }), {
    code: 'PORTMAP_REFUSED',
    resultCode: 8,
    method: 'pcp',
  })
  const { fake, mapper } = await setup(t, { pcp: false }, ['pcp', 'natpmp'])
  t.equal((await mapper.map({ protocol: 'udp', internalPort: 6000 })).method, 'natpmp')
  t.equal((await mapper.map({ protocol: 'tcp', internalPort: 6001 })).method, 'natpmp')
  t.equal(pcpMaps(fake).length, 1, 'PCP is not retried once NAT-PMP was selected')
  t.equal(await mapper.externalAddress(), '203.0.113.7')
})

t.test('a gateway reboot (epoch went back) makes the mapper renew every other mapping at once', async (t) => {
  const clock = new FakeClock()
  const options: PmpOptions = { epoch: 5000, grantLifetime: 7200 }
  const { fake, mapper } = await setup(t, options, ['natpmp'], clock)
  await mapper.map({ protocol: 'udp', internalPort: 7100 })
  await mapper.map({ protocol: 'tcp', internalPort: 7101 })
  clock.advance(10_000)
  options.epoch = 5010
  await mapper.map({ protocol: 'udp', internalPort: 7102 })
  t.equal(natPmpMaps(fake).length, 3, 'no renewal while the epoch is consistent')
  options.epoch = 2
  const renewed: Mapping[] = []
  mapper.on('renewed', (m) => renewed.push(m))
  await mapper.map({ protocol: 'udp', internalPort: 7103 })
  clock.advance(0)
  await until(() => renewed.length === 3)
  t.same(renewed.map((m) => m.internalPort).sort(), [7100, 7101, 7102])
  t.equal(natPmpMaps(fake).length, 7)
})

t.test(
  'a router restart that forgot the mapping is noticed by the minute check, which makes it again',
  async (t) => {
    const clock = new FakeClock()
    const options: PmpOptions = { epoch: 5000, grantLifetime: 7200, grantPort: 41000 }
    const { fake, mapper } = await setup(t, options, ['pcp'], clock)
    const first = await mapper.map({ protocol: 'udp', internalPort: 7200 })
    t.equal(first.externalPort, 41000)
    const renewed: Mapping[] = []
    mapper.on('renewed', (m) => renewed.push(m))
    clock.advance(59_000)
    t.equal(pcpMaps(fake).length, 1, 'nothing sent before the check interval')
    // The router reboots: its epoch starts again and it would now grant another external port.
    options.epoch = 3
    options.grantPort = 42000
    clock.advance(1_000)
    await until(() => renewed.length === 1)
    t.equal(pcpMaps(fake).length, 2, 'the check, a minute after the grant (not at half the 2-hour lease)')
    t.equal(renewed[0]!.externalPort, 42000, 'the mapping was made again, on its new external port')
    t.same(
      mapper.mappings().map((m) => m.externalPort),
      [42000],
    )
  },
)

t.test('a failing renewal retries, then emits lost', async (t) => {
  const clock = new FakeClock()
  const options: PmpOptions = { grantLifetime: 10 }
  const { fake, mapper } = await setup(t, options, ['natpmp'], clock)
  await mapper.map({ protocol: 'udp', internalPort: 7000 })
  options.resultCode = 3
  let lost: [Mapping, PortmapError] | undefined
  mapper.on('lost', (...args) => {
    lost = args
  })
  const attempts: number[] = []
  // Fire each renewal timer, then wait until its exchange failed and the next step is scheduled.
  while (!lost && clock.advanceToNext()) {
    attempts.push(clock.now() - 1_000_000)
    await until(() => lost !== undefined || clock.pending() > 0)
  }
  t.same(attempts, [5000, 7500, 8750], 'renew at half lifetime, retry at half the remaining time')
  t.equal(natPmpMaps(fake).length, 4)
  const [mapping, error] = lost!
  t.match(mapping, { internalPort: 7000 })
  t.match(error, { code: 'PORTMAP_REFUSED', resultCode: 3 })
  t.same(mapper.mappings(), [])
  t.equal(clock.pending(), 0)
})

t.test('no answer is PORTMAP_TIMEOUT; several failing methods are PORTMAP_UNAVAILABLE', async (t) => {
  const { mapper } = await setup(t, { silent: true }, ['natpmp'])
  const started = Date.now()
  await t.rejects(mapper.map({ protocol: 'udp', internalPort: 8000 }), {
    code: 'PORTMAP_TIMEOUT',
    method: 'natpmp',
  })
  t.ok(Date.now() - started >= 3500, 'gave up after the retry schedule')
  const both = await setup(t, { resultCode: 2, natpmp: true }, ['pcp', 'natpmp'])
  const err = await both.mapper.map({ protocol: 'udp', internalPort: 8000 }).catch((e: PortmapError) => e)
  t.match(err, { code: 'PORTMAP_UNAVAILABLE' })
  t.match((err as PortmapError).cause, [
    { method: 'pcp', resultCode: 2 },
    { method: 'natpmp', resultCode: 2 },
  ])
})

t.test('a closed gateway port (ICMP port unreachable) fails fast with PORTMAP_UNREACHABLE', async (t) => {
  const fake = await udpFake(() => [])
  await fake.close()
  const mapper = await PortMapper.create({
    gateway: '127.0.0.1',
    gatewayPort: fake.port,
    protocols: ['pcp', 'natpmp'],
  })
  t.teardown(() => mapper.close())
  const started = Date.now()
  const err = await mapper.map({ protocol: 'udp', internalPort: 8100 }).catch((e: PortmapError) => e)
  t.ok(Date.now() - started < 3000, 'both methods failed before one retry schedule would have ended')
  t.match(err, { code: 'PORTMAP_UNAVAILABLE' })
  t.match((err as PortmapError).cause, [
    { code: 'PORTMAP_UNREACHABLE', method: 'pcp' },
    { code: 'PORTMAP_UNREACHABLE', method: 'natpmp' },
  ])
})

t.test('invalid arguments are PORTMAP_INVALID_ARGUMENT before anything is sent', async (t) => {
  const { fake, mapper } = await setup(t, {}, ['natpmp'])
  const bad = [
    { protocol: 'sctp', internalPort: 1 },
    { protocol: 'udp', internalPort: 0 },
    { protocol: 'udp', internalPort: 1, externalPort: 70000 },
    { protocol: 'udp', internalPort: 1, lifetimeS: 0 },
    { protocol: 'udp', internalPort: 1.5 },
  ]
  for (const req of bad) {
    await t.rejects(mapper.map(req as never), { code: 'PORTMAP_INVALID_ARGUMENT' }, JSON.stringify(req))
  }
  t.equal(fake.received.length, 0)
  await t.rejects(PortMapper.create({ gateway: 'router.local' }), { code: 'PORTMAP_INVALID_ARGUMENT' })
  await t.rejects(PortMapper.create({ gateway: '127.0.0.1', protocols: [] }), {
    code: 'PORTMAP_INVALID_ARGUMENT',
  })
})

t.test('aborting the signal closes the mapper and deletes its mappings', async (t) => {
  const fake = await udpFake(pmpHandler({}))
  t.teardown(() => fake.close())
  const controller = new AbortController()
  const mapper = await PortMapper.create({
    gateway: '127.0.0.1',
    gatewayPort: fake.port,
    protocols: ['natpmp'],
    signal: controller.signal,
  })
  await mapper.map({ protocol: 'tcp', internalPort: 9000 })
  controller.abort()
  await mapper.close()
  t.equal(natPmpMaps(fake).length, 2, 'a later close() waits for the delete the abort started')
  t.equal(natPmpMaps(fake)[1]!.readUInt32BE(8), 0, 'delete sent')
  t.same(mapper.mappings(), [])
})
