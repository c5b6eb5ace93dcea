import { once } from 'node:events'
import type { NetworkInterfaceInfo } from 'node:os'
import t, { type Test } from 'tap'
import { type AddressEvent, AddressManager, type InterfaceList } from '../../lib/addresses/index.js'

const nic = (address: string): NetworkInterfaceInfo => ({
  address,
  family: 'IPv4',
  netmask: '255.255.255.0',
  mac: '00:00:00:00:00:00',
  internal: false,
  cidr: null,
})

/** The manager's timers are unref'd (they must not keep a process alive); a test waiting on them keeps it alive. */
function keepAlive(t: Test): void {
  const timer = setInterval(() => {}, 1000)
  t.teardown(() => clearInterval(timer))
}

t.test('polls the injected interface list and emits changes', async (t) => {
  let interfaces: InterfaceList = { eth0: [nic('192.168.1.2')] }
  const manager = new AddressManager({
    ports: { tcp: 4001 },
    networkInterfaces: () => interfaces,
    pollIntervalMs: 10,
  })
  keepAlive(t)
  const events: AddressEvent[] = []
  manager.on('change', (e) => events.push(e))
  manager.start()
  t.teardown(() => manager.stop())
  t.same(
    events.map((e) => `${e.type} ${e.address.host}`),
    ['added 192.168.1.2'],
  )
  interfaces = { eth0: [nic('192.168.1.3')] }
  await once(manager, 'change')
  await new Promise((resolve) => setImmediate(resolve))
  t.same(events.map((e) => `${e.type} ${e.address.host}`).sort(), [
    'added 192.168.1.2',
    'added 192.168.1.3',
    'removed 192.168.1.2',
  ])
})

t.test('expiring candidates are removed by the timer', async (t) => {
  let now = 1000
  const manager = new AddressManager({ ports: { udp: 4002 }, networkInterfaces: () => ({}), now: () => now })
  keepAlive(t)
  manager.start()
  t.teardown(() => manager.stop())
  manager.add({ host: '203.0.113.2', port: 40000, protocol: 'udp', source: 'pcp', expiresAt: 1020 })
  t.equal(manager.advertisable().length, 1)
  now = 1020
  const [event] = await once(manager, 'change')
  t.equal(event.type, 'removed')
  t.same(manager.list(), [])
})

t.test('the real os.networkInterfaces() always yields loopback for a loopback peer', async (t) => {
  const manager = new AddressManager({ ports: { tcp: 4001 } }).start()
  t.teardown(() => manager.stop())
  t.ok(manager.forPeer('127.0.0.1').some((a) => a.host === '127.0.0.1' && a.port === 4001))
  t.notOk(manager.forPeer('198.51.100.1').some((a) => a.scope === 'loopback'))
})
