/** SSDP M-SEARCH encoding and reply parsing (UDA 1.1 §1.3), incl. garbage. */
import fc from 'fast-check'
import t from 'tap'
import { decodeSsdpResponse, encodeMSearch } from '../../lib/portmap/ssdp.js'
import { vectorBytes } from './helpers/vectors.js'

const text = (s: string) => new TextEncoder().encode(s)

t.test('M-SEARCH has the UDA 1.1 request line and headers', async (t) => {
  const st = 'urn:schemas-upnp-org:device:InternetGatewayDevice:1'
  t.equal(
    new TextDecoder().decode(encodeMSearch(st)),
    `M-SEARCH * HTTP/1.1\r\nHOST: 239.255.255.250:1900\r\nMAN: "ssdp:discover"\r\nMX: 1\r\nST: ${st}\r\n\r\n`,
  )
  t.match(new TextDecoder().decode(encodeMSearch(st, '127.0.0.1', 4000)), /^HOST: 127\.0\.0\.1:4000\r$/m)
})

t.test('parses the reply miniupnpd sent in the lab', async (t) => {
  const reply = decodeSsdpResponse(vectorBytes('ssdp-response.txt'))
  t.equal(reply?.location.href, 'http://192.168.1.1:5000/rootDesc.xml')
  t.equal(reply?.st, 'urn:schemas-upnp-org:device:InternetGatewayDevice:1')
  t.equal(
    reply?.usn,
    'uuid:9b1c1d2e-0000-4000-8000-00000000000a::urn:schemas-upnp-org:device:InternetGatewayDevice:1',
  )
})

t.test('headers are case-insensitive and bare LF line ends are accepted', async (t) => {
  const reply = decodeSsdpResponse(text('HTTP/1.1 200 OK\nlocation:http://10.0.0.1:80/d.xml\nst: x\n\n'))
  t.equal(reply?.location.host, '10.0.0.1')
  t.equal(reply?.usn, '')
})

t.test('anything but a 200 reply with an http LOCATION and ST is null', async (t) => {
  const cases: Record<string, string> = {
    notify: 'NOTIFY * HTTP/1.1\r\nLOCATION: http://10.0.0.1/d.xml\r\nST: x\r\n\r\n',
    'M-SEARCH echo': 'M-SEARCH * HTTP/1.1\r\nST: x\r\n\r\n',
    'status 404': 'HTTP/1.1 404 Not Found\r\nLOCATION: http://10.0.0.1/d.xml\r\nST: x\r\n\r\n',
    'no location': 'HTTP/1.1 200 OK\r\nST: x\r\n\r\n',
    'no st': 'HTTP/1.1 200 OK\r\nLOCATION: http://10.0.0.1/d.xml\r\n\r\n',
    https: 'HTTP/1.1 200 OK\r\nLOCATION: https://10.0.0.1/d.xml\r\nST: x\r\n\r\n',
    'file url': 'HTTP/1.1 200 OK\r\nLOCATION: file:///etc/passwd\r\nST: x\r\n\r\n',
    'not a url': 'HTTP/1.1 200 OK\r\nLOCATION: ::::\r\nST: x\r\n\r\n',
    empty: '',
  }
  for (const [name, body] of Object.entries(cases)) t.equal(decodeSsdpResponse(text(body)), null, name)
  t.equal(decodeSsdpResponse(Uint8Array.of(0xff, 0xfe, 0, 1, 2)), null, 'binary')
})

t.test('random bytes decode to null', async (t) => {
  fc.assert(fc.property(fc.uint8Array({ maxLength: 200 }), (bytes) => decodeSsdpResponse(bytes) === null))
  t.pass('property held')
})
