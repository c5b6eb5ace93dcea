import t from 'tap'
import { classifyIp } from '../../lib/addresses/index.js'

const table: [string, string][] = [
  ['127.0.0.1', 'loopback'],
  ['127.255.255.254', 'loopback'],
  ['::1', 'loopback'],
  ['::ffff:127.0.0.1', 'loopback'],
  ['169.254.1.1', 'link-local'],
  ['fe80::1', 'link-local'],
  ['febf::1', 'link-local'],
  ['10.1.2.3', 'private'],
  ['172.16.0.1', 'private'],
  ['172.31.255.255', 'private'],
  ['172.32.0.1', 'public'],
  ['192.168.1.2', 'private'],
  ['fd12:3456::1', 'private'],
  ['fc00::1', 'private'],
  ['100.64.0.1', 'cgnat'],
  ['100.127.255.255', 'cgnat'],
  ['100.128.0.1', 'public'],
  ['8.8.8.8', 'public'],
  ['203.0.113.2', 'public'],
  ['198.51.100.7', 'public'],
  ['192.0.2.1', 'public'],
  ['2001:db8::1', 'public'],
  ['2a00:1450::1', 'public'],
  ['0.0.0.0', 'unusable'],
  ['::', 'unusable'],
  ['224.0.0.1', 'unusable'],
  ['255.255.255.255', 'unusable'],
  ['ff02::1', 'unusable'],
  ['not-an-ip', 'unusable'],
]

t.test('the spec/addresses.md §2 table', async (t) => {
  for (const [ip, scope] of table) t.equal(classifyIp(ip), scope, ip)
})
