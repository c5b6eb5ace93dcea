/** NAT-PMP codec (RFC 6886 §3) against bytes captured from miniupnpd, plus garbage. */
import fc from 'fast-check'
import t from 'tap'
import {
  decodeNatPmpResponse,
  encodeNatPmpExternalAddressRequest,
  encodeNatPmpMapRequest,
  natPmpResultName,
} from '../../lib/portmap/natpmp.js'
import { vectorBytes } from './helpers/vectors.js'

t.test('external address request is version 0 opcode 0 (RFC 6886 §3.2)', async (t) => {
  t.same(encodeNatPmpExternalAddressRequest(), Uint8Array.of(0, 0))
})

t.test('map request encodes byte for byte like the captured request', async (t) => {
  const bytes = encodeNatPmpMapRequest({
    protocol: 'udp',
    internalPort: 40000,
    externalPort: 40000,
    lifetimeS: 600,
  })
  t.same(bytes, vectorBytes('natpmp-map-udp-request.bin'))
  const tcp = encodeNatPmpMapRequest({
    protocol: 'tcp',
    internalPort: 1,
    externalPort: 65535,
    lifetimeS: 2 ** 32 - 1,
  })
  t.same([...tcp], [0, 2, 0, 0, 0, 1, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff])
})

t.test('decodes miniupnpd external address, map and delete replies', async (t) => {
  t.same(decodeNatPmpResponse(vectorBytes('natpmp-external-address.bin')), {
    op: 'externalAddress',
    resultCode: 0,
    epoch: 811,
    externalAddress: '203.0.113.2',
  })
  t.same(decodeNatPmpResponse(vectorBytes('natpmp-map-udp-response.bin')), {
    op: 'map',
    protocol: 'udp',
    resultCode: 0,
    epoch: 811,
    internalPort: 40000,
    externalPort: 40000,
    lifetimeS: 600,
  })
  const del = decodeNatPmpResponse(vectorBytes('natpmp-delete-udp-response.bin'))
  t.match(del, { op: 'map', externalPort: 0, lifetimeS: 0 })
})

t.test('a non-zero result decodes as an error even from an 8-byte header (RFC 6886 §3.5)', async (t) => {
  t.same(decodeNatPmpResponse(Uint8Array.of(0, 0x82, 0, 2, 0, 0, 0, 7)), {
    op: 'error',
    requestOp: 2,
    resultCode: 2,
    epoch: 7,
  })
  t.equal(natPmpResultName(2), 'notAuthorized')
  t.equal(natPmpResultName(99), 'unknown')
})

t.test('requests, wrong versions, wrong sizes and unknown opcodes decode to null', async (t) => {
  const ext = vectorBytes('natpmp-external-address.bin')
  t.equal(decodeNatPmpResponse(Uint8Array.of(0, 0)), null, 'a request')
  t.equal(decodeNatPmpResponse(vectorBytes('natpmp-map-udp-request.bin')), null, 'a request, R bit clear')
  t.equal(decodeNatPmpResponse(Uint8Array.of(2, ...ext.subarray(1))), null, 'version 2 (PCP)')
  t.equal(decodeNatPmpResponse(ext.subarray(0, 11)), null, 'truncated')
  t.equal(decodeNatPmpResponse(Uint8Array.of(...ext, 0)), null, 'trailing byte')
  t.equal(
    decodeNatPmpResponse(Uint8Array.of(0, 0x83, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)),
    null,
    'opcode 3',
  )
})

t.test('random bytes decode only when they look like a NAT-PMP response, never throw', async (t) => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 40 }), (bytes) => {
      const decoded = decodeNatPmpResponse(bytes)
      return (
        decoded === null || (bytes[0] === 0 && bytes[1]! >= 0x80 && bytes.length >= 8 && bytes.length <= 16)
      )
    }),
  )
  t.pass('property held for 100 random datagrams')
})
