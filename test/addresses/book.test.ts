import type { NetworkInterfaceInfo } from 'node:os'
import t from 'tap'
import {
  AddressBook,
  type AddressCandidate,
  AddressError,
  type InterfaceList,
} from '../../lib/addresses/index.js'

function nic(address: string, family: 'IPv4' | 'IPv6', internal = false): NetworkInterfaceInfo {
  const base = { address, netmask: '255.255.255.0', mac: '00:00:00:00:00:00', internal, cidr: null }
  return family === 'IPv4' ? { ...base, family } : { ...base, family, scopeid: 0 }
}

const lanHost: InterfaceList = {
  lo: [nic('127.0.0.1', 'IPv4', true), nic('::1', 'IPv6', true)],
  eth0: [nic('192.168.1.2', 'IPv4'), nic('fe80::1', 'IPv6'), nic('2001:db8::2', 'IPv6')],
}
const ports = { tcp: 4001, udp: 4002 }
const stun: AddressCandidate = { host: '203.0.113.2', port: 40000, protocol: 'udp', source: 'stun' }

const hostsOf = (list: { host: string; port: number; protocol: string }[]) =>
  list.map((a) => `${a.protocol} ${a.host} ${a.port}`)

t.test('interface addresses are paired with the real bound ports, never port 0', async (t) => {
  const book = new AddressBook(ports)
  book.updateInterfaces(lanHost)
  t.same(hostsOf(book.list()), [
    'tcp 2001:db8::2 4001',
    'udp 2001:db8::2 4002',
    'tcp 192.168.1.2 4001',
    'udp 192.168.1.2 4002',
    'tcp fe80::1 4001',
    'udp fe80::1 4002',
    'tcp 127.0.0.1 4001',
    'udp 127.0.0.1 4002',
    'tcp ::1 4001',
    'udp ::1 4002',
  ])
  t.ok(book.list().every((a) => a.sources.join() === 'interface'))
  t.throws(() => new AddressBook({ tcp: 0 }), { code: 'ADDRESSES_INVALID' })
  t.throws(() => book.add({ ...stun, port: 0 }), AddressError)
})

t.test('bad candidates are typed errors', async (t) => {
  const book = new AddressBook(ports)
  for (const host of ['0.0.0.0', '::', '224.0.0.1', 'example.org']) {
    t.throws(() => book.add({ ...stun, host }), { code: 'ADDRESSES_INVALID' }, host)
  }
  t.throws(() => book.add({ ...stun, port: 70000 }), { code: 'ADDRESSES_INVALID' })
  t.equal(book.list().length, 0)
})

t.test('duplicates merge; sources are kept; events only for real changes', async (t) => {
  const book = new AddressBook(ports)
  book.add(stun)
  book.add({ ...stun, source: 'upnp', expiresAt: 5000 })
  book.add({ ...stun, host: '::ffff:203.0.113.2', source: 'observed', expiresAt: 3000 })
  const [address] = book.list()
  t.same(address?.sources, ['upnp', 'stun', 'observed'])
  t.equal(address?.expiresAt, undefined, 'the STUN claim has no expiry')
  t.equal(book.list().length, 1)
  t.same(book.nextEvent()?.type, 'added')
  t.equal(book.nextEvent(), null)
  book.remove({ ...stun, source: 'stun' })
  t.equal(book.list()[0]?.expiresAt, 5000)
  t.equal(book.nextEvent(), null, 'still vouched for')
})

t.test('expiry: pollTimeout is the earliest expiry; handleTimeout drops expired claims', async (t) => {
  const book = new AddressBook(ports)
  book.add({ ...stun, source: 'natpmp', expiresAt: 1000 })
  book.add({ host: '198.51.100.3', port: 5, protocol: 'tcp', source: 'observed', expiresAt: 2000 })
  t.equal(book.pollTimeout(), 1000)
  book.handleTimeout(999)
  t.equal(book.list().length, 2)
  book.handleTimeout(1000)
  t.same(hostsOf(book.list()), ['tcp 198.51.100.3 5'])
  t.equal(book.pollTimeout(), 2000)
  book.nextEvent()
  book.nextEvent()
  t.equal(book.nextEvent()?.type, 'removed')
  book.handleTimeout(5000)
  t.equal(book.pollTimeout(), null)
})

t.test(
  'forPeer: loopback peers get everything, LAN peers no loopback, Internet peers only public',
  async (t) => {
    const book = new AddressBook(ports)
    book.updateInterfaces(lanHost)
    book.add(stun)
    book.add({ host: '100.100.1.1', port: 4001, protocol: 'tcp', source: 'interface' })
    const scopes = (peer: string) => [...new Set(book.forPeer(peer).map((a) => a.scope))]
    t.same(scopes('127.0.0.1'), ['loopback', 'public', 'cgnat', 'private', 'link-local'])
    t.same(scopes('192.168.1.9'), ['private', 'public', 'cgnat'])
    t.same(scopes('fe80::9'), ['link-local', 'public', 'cgnat', 'private'])
    t.same(scopes('100.101.0.1'), ['cgnat', 'public'])
    t.same(scopes('198.51.100.1'), ['public'])
    t.same(book.forPeer('0.0.0.0'), [])
    t.equal(book.forPeer('198.51.100.1')[0]?.sources[0], 'interface', 'bound public address before STUN')
  },
)

t.test('advertisable: no loopback or link-local, unless only loopback exists', async (t) => {
  const book = new AddressBook(ports)
  book.updateInterfaces(lanHost)
  t.notOk(book.advertisable().some((a) => a.scope === 'loopback' || a.scope === 'link-local'))
  t.ok(book.advertisable().some((a) => a.host === '192.168.1.2'))
  const demo = new AddressBook({ tcp: 4001 })
  demo.updateInterfaces({ lo: lanHost.lo })
  t.same(hostsOf(demo.advertisable()), ['tcp 127.0.0.1 4001', 'tcp ::1 4001'])
})

t.test('interface changes: vanished addresses are removed unless another source vouches', async (t) => {
  const book = new AddressBook(ports)
  book.updateInterfaces(lanHost)
  book.add({ host: '192.168.1.2', port: 4002, protocol: 'udp', source: 'observed' })
  while (book.nextEvent());
  book.updateInterfaces({ lo: lanHost.lo, wlan0: [nic('10.0.0.5', 'IPv4')] })
  const events: string[] = []
  for (let e = book.nextEvent(); e; e = book.nextEvent())
    events.push(`${e.type} ${e.address.protocol} ${e.address.host}`)
  t.same(events.sort(), [
    'added tcp 10.0.0.5',
    'added udp 10.0.0.5',
    'removed tcp 192.168.1.2',
    'removed tcp 2001:db8::2',
    'removed tcp fe80::1',
    'removed udp 2001:db8::2',
    'removed udp fe80::1',
  ])
  t.same(book.list().find((a) => a.host === '192.168.1.2')?.sources, ['observed'])
})

t.test('setPorts re-pairs interface addresses with the new ports', async (t) => {
  const book = new AddressBook({ tcp: 4001 })
  book.updateInterfaces({ lo: lanHost.lo })
  book.setPorts({ tcp: 5001 }, { lo: lanHost.lo })
  t.same(hostsOf(book.list()), ['tcp 127.0.0.1 5001', 'tcp ::1 5001'])
})
