/**
 * Port mapping end to end in the namespace lab (spec/portmap.md §8): hostA maps TCP and UDP ports on
 * rtrA's miniupnpd with UPnP, NAT-PMP and PCP in turn; a process in pub reaches hostA's echo servers
 * through each mapping; after close() the mapping is gone (no reply, no nft rule, upnpc lists nothing).
 * Needs root; run with `npm run test:lab`.
 */
import t from 'tap'
import type { Mapping, MappingMethod } from '../../lib/portmap/index.js'
import type { Agent, Lab } from './helpers/lab.js'
import { withLab } from './helpers/suite.js'

await withLab('pm', async (lab) => {
  const hostA = await lab.agent('hostA')
  const hostB = await lab.agent('hostB')
  const pub = await lab.agent('pub')
  t.teardown(async () => {
    for (const agent of [hostA, hostB, pub]) await agent.stop()
  })
  await runTests(lab, hostA, pub)
  await t.test('behind rtrB (no mapping service): typed errors from every method, fast', async (t) => {
    await hostB.call('mapper', { name: 'none', options: {} })
    const started = Date.now()
    const err = await hostB
      .call('map', { name: 'none', request: { protocol: 'tcp', internalPort: 44000 } })
      .then(
        () => null,
        (e: unknown) => e,
      )
    t.ok(
      Date.now() - started < 5000,
      'PCP and NAT-PMP fail on ICMP port unreachable, UPnP after its SSDP retries',
    )
    t.match(err, { code: 'PORTMAP_UNAVAILABLE' })
    t.match(
      String((err as Error).message),
      /pcp: 192\.168\.2\.1:5351 is unreachable.*natpmp: .*upnp: no answer to SSDP/,
    )
  })
})

async function runTests(lab: Lab, hostA: Agent, pub: Agent): Promise<void> {
  const probe = (protocol: string, host: string, port: number, payload: string, timeoutMs = 3000) =>
    pub.call<string>('probe', { protocol, host, port, payload, timeoutMs })
  const natRules = () =>
    lab.exec('rtrA', 'nft', ['list', 'chain', 'inet', lab.prefix, 'prerouting_miniupnpd'])

  await t.test('without a mapping, pub cannot reach hostA through rtrA', async (t) => {
    await hostA.call('echoServer', { protocol: 'tcp', port: 41999 })
    await t.rejects(probe('tcp', '203.0.113.2', 41999, 'x', 1000), { message: 'timeout' })
  })

  const methods: MappingMethod[] = ['upnp', 'natpmp', 'pcp']
  for (const [i, method] of methods.entries()) {
    await t.test(`${method}: map TCP and UDP, reach them from pub, gone after close()`, async (t) => {
      const tcpPort = 41000 + i
      const udpPort = 42000 + i
      await hostA.call('echoServer', { protocol: 'tcp', port: tcpPort })
      await hostA.call('echoServer', { protocol: 'udp', port: udpPort })
      await hostA.call('mapper', { name: method, options: { gateway: '192.168.1.1', protocols: [method] } })
      t.equal(
        await hostA.call('externalAddress', { name: method }),
        '203.0.113.2',
        'reserved external address',
      )

      const tcp = await hostA.call<Mapping>('map', {
        name: method,
        request: { protocol: 'tcp', internalPort: tcpPort, lifetimeS: 600 },
      })
      const udp = await hostA.call<Mapping>('map', {
        name: method,
        request: { protocol: 'udp', internalPort: udpPort, lifetimeS: 600 },
      })
      t.match(tcp, { method, protocol: 'tcp', externalHost: '203.0.113.2', externalPort: tcpPort })
      t.match(udp, { method, protocol: 'udp', externalHost: '203.0.113.2', externalPort: udpPort })

      t.equal(await probe('tcp', tcp.externalHost, tcp.externalPort, `tcp-${method}`), `echo:tcp-${method}`)
      t.equal(await probe('udp', udp.externalHost, udp.externalPort, `udp-${method}`), `echo:udp-${method}`)
      t.match(natRules(), new RegExp(`dport ${tcpPort} dnat ip to 192\\.168\\.1\\.2:${tcpPort}`))
      if (method === 'upnp')
        t.match(lab.exec('hostA', 'upnpc', ['-i', '-l']), new RegExp(`TCP\\s+${tcpPort}->`))

      await hostA.call('close', { name: method })
      t.notMatch(natRules(), new RegExp(`dport (${tcpPort}|${udpPort}) `), 'miniupnpd removed the rules')
      await t.rejects(probe('tcp', tcp.externalHost, tcp.externalPort, 'again', 1000), { message: 'timeout' })
      await t.rejects(probe('udp', udp.externalHost, udp.externalPort, 'again', 1000), { message: 'timeout' })
      if (method === 'upnp') t.notMatch(lab.exec('hostA', 'upnpc', ['-i', '-l']), new RegExp(`${tcpPort}->`))
    })
  }

  await t.test(
    'after the router restarts with its rules flushed, its announcement brings the mapping back',
    async (t) => {
      await hostA.call('mapper', { name: 'reboot', options: { gateway: '192.168.1.1', protocols: ['pcp'] } })
      await hostA.call('map', {
        name: 'reboot',
        request: { protocol: 'tcp', internalPort: 41010, lifetimeS: 7200 },
      })
      const rule = /dport 41010 dnat ip to 192\.168\.1\.2:41010/
      t.match(natRules(), rule)
      lab.script(['upnp', 'off'])
      for (const chain of ['miniupnpd', 'prerouting_miniupnpd', 'postrouting_miniupnpd'])
        lab.exec('rtrA', 'nft', ['flush', 'chain', 'inet', lab.prefix, chain])
      t.notMatch(natRules(), rule, 'the restarted router has forgotten the mapping')
      lab.script(['upnp', 'on'])
      // The lease (2 h) and the renewal check (every minute) are both far off: only the announcement
      // miniupnpd multicasts as it starts can bring the rule back within these 20 s.
      let back = false
      for (let waited = 0; waited < 20_000 && !back; waited += 250) {
        await new Promise((resolve) => setTimeout(resolve, 250))
        back = rule.test(natRules())
      }
      t.ok(back, 'the mapping is made again')
      t.ok((await hostA.call<{ announcements: number }>('counters', { name: 'reboot' })).announcements >= 1)
      await hostA.call('close', { name: 'reboot' })
    },
  )

  await t.test('our external address agrees with the reference clients natpmpc and upnpc', async (t) => {
    t.match(lab.exec('hostA', 'natpmpc', ['-g', '192.168.1.1']), /Public IP address : 203\.0\.113\.2/)
    t.match(lab.exec('hostA', 'upnpc', ['-i', '-s']), /ExternalIPAddress = 203\.0\.113\.2/)
  })

  await t.test(
    'with no options: gateway from /proc/net/route, PCP first; upnpc lists our mapping until close()',
    async (t) => {
      await hostA.call('mapper', { name: 'default', options: {} })
      const m = await hostA.call<Mapping>('map', {
        name: 'default',
        request: { protocol: 'udp', internalPort: 43000 },
      })
      t.equal(m.method, 'pcp', 'with no options: default gateway from /proc/net/route, PCP tried first')
      t.match(lab.exec('hostA', 'upnpc', ['-i', '-l']), /UDP\s+43000->192\.168\.1\.2:43000/)
      await hostA.call('close', { name: 'default' })
      t.notMatch(lab.exec('hostA', 'upnpc', ['-i', '-l']), /43000->/)
    },
  )
}
