import t from 'tap'
import { dhtScope, endpointHost, publishableAddresses } from '../../lib/addresses/index.js'

const mixed = [
  { host: '127.0.0.1', port: 1 },
  { host: '192.168.1.2', port: 2 },
  { host: '100.64.0.7', port: 3 },
  { host: '203.0.113.2', port: 4 },
  { host: 'fd00::5', port: 5 },
  { host: '2001:db8::6', port: 6 },
]

t.test('a public DHT gets public addresses only; loopback and LAN DHTs keep theirs', async (t) => {
  t.same(
    publishableAddresses(mixed, 'public').map((a) => a.port),
    [4, 6],
  )
  t.same(
    publishableAddresses(mixed, 'private').map((a) => a.port),
    [2, 3, 4, 5, 6],
  )
  t.same(
    publishableAddresses(mixed, 'loopback').map((a) => a.port),
    [1, 2, 3, 4, 5, 6],
  )
})

t.test('the DHT scope is the widest of the bootstrap hosts and the bound host', async (t) => {
  t.equal(dhtScope(['127.0.0.1'], '127.0.0.1'), 'loopback')
  t.equal(dhtScope([], '127.0.0.1'), 'loopback', 'a loopback-bound node only meets loopback nodes')
  t.equal(dhtScope(['192.168.1.1'], '0.0.0.0'), 'private')
  t.equal(dhtScope(['192.168.1.1', '203.0.113.1'], '0.0.0.0'), 'public')
  t.equal(dhtScope([], '0.0.0.0'), 'public', 'nothing known: strictest')
  t.equal(dhtScope(['dht.example.org'], '::'), 'public', 'a host name: strictest')
})

t.test('endpointHost takes the host of HOST:PORT and [V6]:PORT', async (t) => {
  t.equal(endpointHost('203.0.113.1:4000'), '203.0.113.1')
  t.equal(endpointHost('[2001:db8::1]:4000'), '2001:db8::1')
  t.equal(endpointHost('2001:db8::1'), '2001:db8::1')
  t.equal(endpointHost('example.org:1'), 'example.org')
})
