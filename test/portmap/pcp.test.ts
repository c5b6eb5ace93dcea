/** PCP MAP codec (RFC 6887 §7, §11) against bytes captured from miniupnpd, plus garbage. */
import fc from 'fast-check'
import t from 'tap'
import { ipv4ToMapped, mappedToIpv4 } from '../../lib/portmap/address.js'
import { decodePcpResponse, encodePcpMapRequest, pcpResultName } from '../../lib/portmap/pcp.js'
import { vectorBytes } from './helpers/vectors.js'

const nonce = Uint8Array.from([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12])

t.test('MAP request encodes byte for byte like the captured request', async (t) => {
  const bytes = encodePcpMapRequest({
    lifetimeS: 600,
    clientAddress: ipv4ToMapped('192.168.1.2'),
    nonce,
    protocol: 'tcp',
    internalPort: 40002,
    suggestedExternalPort: 40002,
    suggestedExternalAddress: ipv4ToMapped('0.0.0.0'),
  })
  t.same(bytes, vectorBytes('pcp-map-tcp-request.bin'))
  t.throws(() => encodePcpMapRequest({ ...minimalRequest(), nonce: new Uint8Array(11) }), TypeError)
})

t.test('decodes the MAP success reply', async (t) => {
  t.same(decodePcpResponse(vectorBytes('pcp-map-tcp-response.bin')), {
    version: 2,
    opcode: 1,
    resultCode: 0,
    lifetimeS: 600,
    epoch: 811,
    map: { nonce, protocol: 6, internalPort: 40002, externalPort: 40002, externalAddress: '203.0.113.2' },
  })
})

t.test('decodes delete and ADDRESS_MISMATCH replies', async (t) => {
  t.match(decodePcpResponse(vectorBytes('pcp-delete-tcp-response.bin')), { resultCode: 0, lifetimeS: 0 })
  const mismatch = decodePcpResponse(vectorBytes('pcp-address-mismatch-response.bin'))
  t.match(mismatch, { resultCode: 12, map: { nonce, externalAddress: '0.0.0.0' } })
  t.equal(pcpResultName(12), 'addressMismatch')
})

t.test(
  'a NAT-PMP-only server answering UNSUPP_VERSION decodes as a header (RFC 6887 Appendix A)',
  async (t) => {
    t.same(decodePcpResponse(Uint8Array.of(0, 0x81, 0, 1, 0, 0, 0, 9)), {
      version: 0,
      opcode: 1,
      resultCode: 1,
      lifetimeS: 0,
      epoch: 0,
    })
  },
)

t.test('options after the MAP payload are skipped; bad lengths and requests are null', async (t) => {
  const reply = vectorBytes('pcp-map-tcp-response.bin')
  const withOption = Uint8Array.of(...reply, 1, 0, 0, 4, 0, 0, 0, 0)
  t.match(decodePcpResponse(withOption), { map: { externalPort: 40002 } })
  t.equal(decodePcpResponse(reply.subarray(0, 58)), null, 'not a multiple of 4')
  t.equal(decodePcpResponse(reply.subarray(0, 56)), null, 'MAP payload cut short')
  t.equal(decodePcpResponse(vectorBytes('pcp-map-tcp-request.bin')), null, 'a request (R bit clear)')
  t.equal(decodePcpResponse(new Uint8Array(1104).fill(2)), null, 'over 1100 bytes')
  const announce = Uint8Array.of(2, 0x80, ...new Uint8Array(22))
  t.same(decodePcpResponse(announce)?.map, undefined, 'ANNOUNCE has no MAP payload')
})

t.test('IPv4-mapped addresses round trip; others are refused', async (t) => {
  t.equal(mappedToIpv4(ipv4ToMapped('203.0.113.2')), '203.0.113.2')
  t.equal(mappedToIpv4(new Uint8Array(16).fill(0x20)), null)
  t.equal(mappedToIpv4(new Uint8Array(4)), null)
  t.throws(() => ipv4ToMapped('::1'), TypeError)
})

t.test('random bytes decode only with the R bit; a mutated port byte changes only the port', async (t) => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 80 }), (bytes) => {
      return decodePcpResponse(bytes) === null || (bytes[1]! & 0x80) !== 0
    }),
  )
  const reply = vectorBytes('pcp-map-tcp-response.bin')
  fc.assert(
    fc.property(fc.integer({ min: 0, max: 255 }), (b) => {
      const mutated = Uint8Array.from(reply)
      mutated[67 - 24] = b
      const decoded = decodePcpResponse(mutated)
      return decoded?.map?.externalPort === (0x9c << 8) + b && decoded.map.internalPort === 40002
    }),
  )
  t.pass('properties held')
})

function minimalRequest() {
  return {
    lifetimeS: 1,
    clientAddress: ipv4ToMapped('10.0.0.1'),
    nonce,
    protocol: 'udp' as const,
    internalPort: 1,
    suggestedExternalPort: 0,
    suggestedExternalAddress: ipv4ToMapped('0.0.0.0'),
  }
}
