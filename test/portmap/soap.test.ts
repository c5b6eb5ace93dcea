/** UPnP IGD description and SOAP codecs (UDA 1.1 §2.3, §3.2) against miniupnpd's own documents. */
import t from 'tap'
import { PortmapError } from '../../lib/portmap/errors.js'
import { decodeDescription, decodeSoapResponse, encodeSoapRequest } from '../../lib/portmap/soap.js'
import { soapVector, vectorText } from './helpers/vectors.js'

const location = new URL('http://192.168.1.1:5000/rootDesc.xml')

function serviceXml(type: string, control: string): string {
  return `<service><serviceType>${type}</serviceType><controlURL>${control}</controlURL></service>`
}

t.test('finds WANIPConnection:2 in miniupnpd rootDesc.xml and resolves its control URL', async (t) => {
  const services = decodeDescription(vectorText('rootDesc.xml'), location)
  t.same(
    services.map((s) => [s.serviceType, s.controlUrl.href]),
    [['urn:schemas-upnp-org:service:WANIPConnection:2', 'http://192.168.1.1:5000/ctl/IPConn']],
  )
})

t.test('prefers IP over PPP connections, honours URLBase, skips other hosts', async (t) => {
  const xml =
    '<root><URLBase>http://192.168.1.1:5000/base/</URLBase>' +
    serviceXml('urn:schemas-upnp-org:service:WANPPPConnection:1', 'ppp') +
    serviceXml('urn:schemas-upnp-org:service:WANIPConnection:1', 'http://198.51.100.9:5000/evil') +
    serviceXml('urn:schemas-upnp-org:service:WANIPConnection:1', '/ip') +
    serviceXml('urn:schemas-upnp-org:service:Layer3Forwarding:1', '/l3f') +
    '</root>'
  t.same(
    decodeDescription(xml, location).map((s) => s.controlUrl.href),
    ['http://192.168.1.1:5000/ip', 'http://192.168.1.1:5000/base/ppp'],
  )
})

t.test('descriptions without usable services decode to an empty list', async (t) => {
  t.same(decodeDescription('', location), [])
  t.same(decodeDescription('<root><service><serviceType>x</serviceType></service>', location), [])
  t.same(decodeDescription('\u0000\u0001<<<>>>&&&', location), [])
  const noUrl = serviceXml('urn:schemas-upnp-org:service:WANIPConnection:1', 'ftp://192.168.1.1:5000/x')
  t.same(decodeDescription(noUrl, location), [])
})

t.test('encodes a SOAP action with ordered, escaped arguments and the SOAPAction header', async (t) => {
  const st = 'urn:schemas-upnp-org:service:WANIPConnection:1'
  const req = encodeSoapRequest(st, 'AddPortMapping', [
    ['NewExternalPort', 40000],
    ['NewPortMappingDescription', 'a<b & "c"'],
  ])
  t.equal(req.headers.soapaction, `"${st}#AddPortMapping"`)
  t.match(req.headers['content-type'], /^text\/xml/)
  t.ok(
    req.body.includes(
      `<u:AddPortMapping xmlns:u="${st}"><NewExternalPort>40000</NewExternalPort>` +
        '<NewPortMappingDescription>a&lt;b &amp; &quot;c&quot;</NewPortMappingDescription></u:AddPortMapping>',
    ),
  )
})

t.test(
  'decodes miniupnpd replies: external address, empty AddPortMapping/DeletePortMapping responses',
  async (t) => {
    const ip = soapVector('soap-get-external-ip.txt')
    t.equal(
      decodeSoapResponse('GetExternalIPAddress', ip.status, ip.body).get('NewExternalIPAddress'),
      '203.0.113.2',
    )
    const add = soapVector('soap-add-port-mapping.txt')
    t.equal(decodeSoapResponse('AddPortMapping', add.status, add.body).size, 0)
    const del = soapVector('soap-delete-port-mapping.txt')
    t.equal(decodeSoapResponse('DeletePortMapping', del.status, del.body).size, 0)
  },
)

t.test('a UPnPError fault becomes PORTMAP_SOAP_FAULT with its code (718 from miniupnpd)', async (t) => {
  const fault = soapVector('soap-fault-718.txt')
  t.equal(fault.status, 500)
  const err = catchError(() => decodeSoapResponse('AddPortMapping', fault.status, fault.body))
  t.match(err, { code: 'PORTMAP_SOAP_FAULT', resultCode: 718, method: 'upnp', remote: true })
  t.match(err.message, /ConflictInMappingEntry/)
})

t.test('other failures: HTTP status, missing response element, fault without a code', async (t) => {
  t.match(
    catchError(() => decodeSoapResponse('X', 404, 'not found')),
    { code: 'PORTMAP_HTTP', resultCode: 404 },
  )
  t.match(
    catchError(() => decodeSoapResponse('X', 200, '<a>junk</a>')),
    { code: 'PORTMAP_MALFORMED' },
  )
  const badFault = '<UPnPError><errorCode>abc</errorCode></UPnPError>'
  t.match(
    catchError(() => decodeSoapResponse('X', 500, badFault)),
    { code: 'PORTMAP_MALFORMED' },
  )
})

t.test('hostile bodies of unclosed tags (up to the 64 KiB cap) yield no match, not a stall', async (t) => {
  for (const body of [
    '<service'.repeat(8000),
    '<service>'.repeat(7000),
    '<a '.repeat(20000),
    '<a:'.repeat(20000),
  ]) {
    t.same(decodeDescription(body, location), [])
    t.match(
      catchError(() => decodeSoapResponse('X', 200, body)),
      { code: 'PORTMAP_MALFORMED' },
    )
  }
  const leaves = `<u:XResponse>${'<A '.repeat(15000)}<B>ok</B></u:XResponse>`
  t.equal(decodeSoapResponse('X', 200, leaves).get('B'), 'ok')
})

t.test('entities and character references in values are decoded', async (t) => {
  const body = '<u:XResponse><A>&lt;&#65;&#x42;&amp;&apos;</A><B/></u:XResponse>'
  const out = decodeSoapResponse('X', 200, body)
  t.equal(out.get('A'), "<AB&'")
  t.equal(out.get('B'), '')
})

function catchError(fn: () => unknown): PortmapError {
  try {
    fn()
  } catch (err) {
    if (err instanceof PortmapError) return err
    throw err
  }
  throw new Error('expected a PortmapError')
}
