import type { NetworkInterfaceInfo } from 'node:os'
import t from 'tap'
import { type InterfaceList, isOnLink, isOwnAddress, isPublicOffLink } from '../../lib/addresses/index.js'
import { acceptedPath } from '../../lib/node/strategy.js'
import { dialedPath } from '../../lib/pairing/connect.js'

/** A host with loopback, a public 192.0.2.2/24 on eth0 (no router) and a 2001:db8:1::/64 address. */
const interfaces: InterfaceList = {
  lo: [
    entry('127.0.0.1', '255.0.0.0', 'IPv4', true),
    entry('::1', 'ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff', 'IPv6', true),
  ],
  eth0: [
    entry('192.0.2.2', '255.255.255.0', 'IPv4'),
    entry('2001:db8:1::2', 'ffff:ffff:ffff:ffff::', 'IPv6'),
  ],
  tun0: [entry('198.51.100.9', '0.0.0.0', 'IPv4')],
}

function entry(
  address: string,
  netmask: string,
  family: 'IPv4' | 'IPv6',
  internal = false,
): NetworkInterfaceInfo {
  const common = { address, netmask, mac: '00:00:00:00:00:00', internal, cidr: null }
  return family === 'IPv4' ? { ...common, family } : { ...common, family, scopeid: 0 }
}

t.test('own addresses: exact interface addresses, IPv4-mapped and uncanonical IPv6 folded', async (t) => {
  t.ok(isOwnAddress('192.0.2.2', interfaces))
  t.ok(isOwnAddress('::ffff:192.0.2.2', interfaces))
  t.ok(isOwnAddress('2001:DB8:1:0::2', interfaces))
  t.notOk(isOwnAddress('192.0.2.3', interfaces), 'a neighbour is not ours')
  t.notOk(isOwnAddress('not-an-ip', interfaces))
})

t.test(
  'on link: inside an interface subnet, not beyond it; a zero-length netmask covers nothing',
  async (t) => {
    t.ok(isOnLink('192.0.2.200', interfaces), 'same /24 as eth0')
    t.ok(isOnLink('2001:db8:1::ffff', interfaces), 'same /64 as eth0')
    t.notOk(isOnLink('192.0.3.1', interfaces), 'next /24')
    t.notOk(isOnLink('2001:db8:2::1', interfaces), 'next /64')
    t.notOk(isOnLink('203.0.113.7', interfaces), 'tun0 has netmask 0.0.0.0: not the whole internet')
    t.ok(isOnLink('198.51.100.9', interfaces), "tun0's own address is still this machine's")
  },
)

t.test('public off link: only public addresses that cross a router', async (t) => {
  t.ok(isPublicOffLink('203.0.113.7', interfaces))
  t.notOk(isPublicOffLink('192.0.2.9', interfaces), 'public but on eth0')
  t.notOk(isPublicOffLink('10.0.0.1', interfaces), 'private')
})

t.test(
  'a public address on this machine or its link is dialed and accepted direct, one beyond is mapped',
  async (t) => {
    const tcp = (host: string) => ({ host, transport: 'tcp' as const })
    t.equal(
      dialedPath(tcp('192.0.2.2'), interfaces),
      'direct',
      'the same host, as two daemons on one machine',
    )
    t.equal(dialedPath(tcp('192.0.2.77'), interfaces), 'direct', 'a neighbour with a public address')
    t.equal(dialedPath(tcp('203.0.113.7'), interfaces), 'mapped', "another network's public address")
    t.equal(dialedPath(tcp('10.1.2.3'), interfaces), 'direct')
    t.equal(dialedPath({ host: '203.0.113.7', transport: 'relay' }, interfaces), 'relay')
    t.equal(acceptedPath('203.0.113.7', true, interfaces), 'mapped')
    t.equal(
      acceptedPath('192.0.2.77', true, interfaces),
      'direct',
      'a neighbour did not come through the mapping',
    )
    t.equal(acceptedPath('203.0.113.7', false, interfaces), 'direct', 'no mapping held')
  },
)
