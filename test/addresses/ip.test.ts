import fc from 'fast-check'
import t from 'tap'
import {
  bytesToIp,
  canonicalIp,
  formatEndpoint,
  ipFamily,
  ipToBytes,
  unmapIpv4,
} from '../../lib/addresses/index.js'

t.test('IPv6 text → bytes → text matches the WHATWG URL serialiser (RFC 5952 form)', async (t) => {
  fc.assert(
    fc.property(fc.ipV6(), (ip) => {
      const ours = bytesToIp(ipToBytes(ip)!)
      return ours === new URL(`http://[${ip}]/`).hostname.slice(1, -1)
    }),
    { numRuns: 2000 },
  )
  t.equal(canonicalIp('2001:0DB8:0000:0000:0001:0000:0000:0001'), '2001:db8::1:0:0:1')
  t.equal(canonicalIp('::ffff:192.0.2.1'), '::ffff:c000:201')
})

t.test('IPv4 round trip; non-IP text is null', async (t) => {
  fc.assert(fc.property(fc.ipV4(), (ip) => bytesToIp(ipToBytes(ip)!) === ip))
  t.equal(ipToBytes('example.org'), null)
  t.equal(ipFamily('300.1.1.1'), null)
  t.equal(ipFamily('fe80::1%eth0'), 'IPv6')
  t.same(ipToBytes('fe80::1%eth0')?.length, 16)
  t.throws(() => bytesToIp(new Uint8Array(5)), RangeError)
})

t.test('IPv4-mapped IPv6 unmaps; others stay', async (t) => {
  t.equal(unmapIpv4('::ffff:127.0.0.1'), '127.0.0.1')
  t.equal(unmapIpv4('::1'), '::1')
  t.equal(unmapIpv4('10.0.0.1'), '10.0.0.1')
})

t.test('formatEndpoint brackets IPv6', async (t) => {
  t.equal(formatEndpoint({ host: '::1', port: 7 }), '[::1]:7')
  t.equal(formatEndpoint({ host: '10.0.0.1', port: 7 }), '10.0.0.1:7')
})
