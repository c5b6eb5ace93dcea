import dgram from 'node:dgram'
import http from 'node:http'
import { writeFileSync, mkdirSync } from 'node:fs'
const out = process.argv[2]
mkdirSync(out, { recursive: true })
const save = (name, data) => writeFileSync(`${out}/${name}`, data)
function udp(host, port, msg, multicast) {
  return new Promise((res) => {
    const s = dgram.createSocket('udp4')
    s.on('message', (m, r) => { s.close(); res([m, r]) })
    s.bind(0, () => s.send(msg, port, host))
  })
}
function req(url, method, headers, body) {
  return new Promise((res, rej) => {
    const r = http.request(url, { method, headers }, (resp) => {
      const c = []; resp.on('data', (d) => c.push(d)); resp.on('end', () => res([resp.statusCode, Buffer.concat(c).toString()]))
    }); r.on('error', rej); r.end(body)
  })
}
const [ssdp] = await udp('239.255.255.250', 1900, 'M-SEARCH * HTTP/1.1\r\nHOST: 239.255.255.250:1900\r\nMAN: "ssdp:discover"\r\nMX: 1\r\nST: urn:schemas-upnp-org:device:InternetGatewayDevice:1\r\n\r\n')
save('ssdp-response.txt', ssdp)
const [, desc] = await req('http://192.168.1.1:5000/rootDesc.xml', 'GET', {})
save('rootDesc.xml', desc)
const ST = 'urn:schemas-upnp-org:service:WANIPConnection:1'
async function soap(action, args, name) {
  const body = `<?xml version="1.0"?>\r\n<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/" s:encodingStyle="http://schemas.xmlsoap.org/soap/encoding/"><s:Body><u:${action} xmlns:u="${ST}">${args}</u:${action}></s:Body></s:Envelope>\r\n`
  const [status, text] = await req('http://192.168.1.1:5000/ctl/IPConn', 'POST', { 'content-type': 'text/xml; charset="utf-8"', soapaction: `"${ST}#${action}"` }, body)
  save(name, `HTTP ${status}\n${text}`)
}
await soap('GetExternalIPAddress', '', 'soap-get-external-ip.txt')
await soap('AddPortMapping', '<NewRemoteHost></NewRemoteHost><NewExternalPort>40000</NewExternalPort><NewProtocol>TCP</NewProtocol><NewInternalPort>40000</NewInternalPort><NewInternalClient>192.168.1.2</NewInternalClient><NewEnabled>1</NewEnabled><NewPortMappingDescription>vec</NewPortMappingDescription><NewLeaseDuration>600</NewLeaseDuration>', 'soap-add-port-mapping.txt')
await soap('AddPortMapping', '<NewRemoteHost></NewRemoteHost><NewExternalPort>40001</NewExternalPort><NewProtocol>TCP</NewProtocol><NewInternalPort>40000</NewInternalPort><NewInternalClient>192.168.1.9</NewInternalClient><NewEnabled>1</NewEnabled><NewPortMappingDescription>vec</NewPortMappingDescription><NewLeaseDuration>600</NewLeaseDuration>', 'soap-fault-718.txt')
await soap('DeletePortMapping', '<NewRemoteHost></NewRemoteHost><NewExternalPort>40000</NewExternalPort><NewProtocol>TCP</NewProtocol>', 'soap-delete-port-mapping.txt')
await soap('DeletePortMapping', '<NewRemoteHost></NewRemoteHost><NewExternalPort>40000</NewExternalPort><NewProtocol>TCP</NewProtocol>', 'soap-delete-missing.txt')
const [pmpExt] = await udp('192.168.1.1', 5351, Buffer.from([0, 0]))
save('natpmp-external-address.bin', pmpExt)
const mapReq = Buffer.from([0, 1, 0, 0, 0x9c, 0x40, 0x9c, 0x40, 0, 0, 0x02, 0x58])
save('natpmp-map-udp-request.bin', mapReq)
const [pmpMap] = await udp('192.168.1.1', 5351, mapReq)
save('natpmp-map-udp-response.bin', pmpMap)
const [pmpDel] = await udp('192.168.1.1', 5351, Buffer.from([0, 1, 0, 0, 0x9c, 0x40, 0, 0, 0, 0, 0, 0]))
save('natpmp-delete-udp-response.bin', pmpDel)
const nonce = Buffer.from('0102030405060708090a0b0c', 'hex')
const pcp = Buffer.alloc(60)
pcp[0] = 2; pcp[1] = 1; pcp.writeUInt32BE(600, 4)
Buffer.from([0,0,0,0,0,0,0,0,0,0,0xff,0xff,192,168,1,2]).copy(pcp, 8)
nonce.copy(pcp, 24); pcp[36] = 6; pcp.writeUInt16BE(40002, 40); pcp.writeUInt16BE(40002, 42)
Buffer.from([0,0,0,0,0,0,0,0,0,0,0xff,0xff,0,0,0,0]).copy(pcp, 44)
save('pcp-map-tcp-request.bin', pcp)
const [pcpResp] = await udp('192.168.1.1', 5351, pcp)
save('pcp-map-tcp-response.bin', pcpResp)
const del = Buffer.from(pcp); del.writeUInt32BE(0, 4)
const [pcpDel] = await udp('192.168.1.1', 5351, del)
save('pcp-delete-tcp-response.bin', pcpDel)
const bad = Buffer.from(pcp); Buffer.from([0,0,0,0,0,0,0,0,0,0,0xff,0xff,192,168,1,77]).copy(bad, 8)
const [pcpMismatch] = await udp('192.168.1.1', 5351, bad)
save('pcp-address-mismatch-response.bin', pcpMismatch)
console.log('ok')
