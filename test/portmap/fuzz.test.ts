/** Property tests of gateway replies (`spec/portmap.md`): mutated captures from miniupnpd, decoded safely. */
import fc from 'fast-check'
import t from 'tap'
import { PortmapError } from '../../lib/portmap/errors.js'
import { decodeNatPmpResponse } from '../../lib/portmap/natpmp.js'
import { decodePcpResponse } from '../../lib/portmap/pcp.js'
import { decodeDescription, decodeSoapResponse } from '../../lib/portmap/soap.js'
import { decodeSsdpResponse } from '../../lib/portmap/ssdp.js'
import { garbageOr, mutationOf, outcome, runs } from '../fuzz/helpers/arbitraries.js'
import { soapVector, vectorBytes, vectorText } from './helpers/vectors.js'

const text = (samples: string[]) =>
  fc.oneof(
    fc.string({ maxLength: 300 }),
    mutationOf(samples.map((s) => Buffer.from(s))).map((b) => Buffer.from(b).toString('utf8')),
  )

t.test('mutated NAT-PMP and PCP replies decode only as responses, never throw', async (t) => {
  const natpmp = [
    'natpmp-external-address.bin',
    'natpmp-map-udp-response.bin',
    'natpmp-delete-udp-response.bin',
  ].map(vectorBytes)
  const pcp = [
    'pcp-map-tcp-response.bin',
    'pcp-delete-tcp-response.bin',
    'pcp-address-mismatch-response.bin',
  ].map(vectorBytes)
  let decoded = 0
  fc.assert(
    fc.property(garbageOr(natpmp, 40), garbageOr(pcp, 80), (a, b) => {
      const natpmpReply = decodeNatPmpResponse(a)
      const pcpReply = decodePcpResponse(b)
      if (natpmpReply !== null) decoded++
      if (pcpReply !== null) decoded++
      return (
        // Only a response decodes: NAT-PMP version 0 with opcode ≥ 128, PCP with the R bit (RFC 6886 §3, RFC 6887 §7.2).
        (natpmpReply === null || (a[0] === 0 && a[1]! >= 128)) && (pcpReply === null || b[1]! >= 128)
      )
    }),
    runs(3000),
  )
  t.ok(decoded > 0, `some mutations still decoded (${decoded}), so both outcomes were seen`)
})

t.test('mutated SSDP replies are null or name an http LOCATION', async (t) => {
  fc.assert(
    fc.property(text([vectorText('ssdp-response.txt')]), (reply) => {
      const decoded = decodeSsdpResponse(Buffer.from(reply))
      return decoded === null || (decoded.location.protocol === 'http:' && decoded.st.length > 0)
    }),
    runs(2000),
  )
  t.pass('2000 SSDP replies held the property')
})

t.test(
  'mutated SOAP replies give arguments or PORTMAP_SOAP_FAULT / HTTP / MALFORMED, nothing else',
  async (t) => {
    const replies = [
      'soap-add-port-mapping.txt',
      'soap-delete-port-mapping.txt',
      'soap-fault-718.txt',
      'soap-get-external-ip.txt',
    ].map(soapVector)
    fc.assert(
      fc.property(
        text(replies.map((r) => r.body)),
        fc.constantFrom(200, 500),
        fc.constantFrom('AddPortMapping', 'GetExternalIPAddress', 'DeletePortMapping'),
        (body, status, action) => {
          const result = outcome(() => decodeSoapResponse(action, status, body), PortmapError, [
            'PORTMAP_SOAP_FAULT',
            'PORTMAP_HTTP',
            'PORTMAP_MALFORMED',
          ])
          return !result.startsWith('stray')
        },
      ),
      runs(2000),
    )
    t.pass('2000 SOAP replies held the property')
  },
)

t.test('a mutated device description never steers control URLs off the described host', async (t) => {
  const location = new URL('http://192.0.2.1:5000/rootDesc.xml')
  const description = vectorText('rootDesc.xml')
  t.ok(decodeDescription(description, location).length > 0, 'the captured description names a service')
  fc.assert(
    fc.property(text([description, description.replaceAll('192.0.2.1', '203.0.113.9')]), (xml) =>
      decodeDescription(xml, location).every(
        (service) => service.controlUrl.host === location.host && service.controlUrl.protocol === 'http:',
      ),
    ),
    runs(1000),
  )
})
