/**
 * Loopback fakes of a gateway for the port-mapping tests: a NAT-PMP/PCP server on UDP, an IGD on
 * HTTP, an SSDP responder. Replies are written byte by byte here (not with lib/portmap's encoders) so
 * the tests check the client against an independent reading of RFC 6886 / RFC 6887 / UPnP IGD.
 */
import dgram from 'node:dgram'
import { readFileSync } from 'node:fs'
import http from 'node:http'
import type { AddressInfo } from 'node:net'

export interface UdpFake {
  port: number
  received: Buffer[]
  /** Sends a datagram from the fake's port to 127.0.0.1:`to` (an unsolicited announcement). */
  send(data: Uint8Array, to: number): Promise<void>
  close(): Promise<void>
}

/** A UDP server on 127.0.0.1 answering each datagram with whatever `handler` returns. */
export async function udpFake(handler: (msg: Buffer) => Buffer[]): Promise<UdpFake> {
  const socket = dgram.createSocket('udp4')
  const received: Buffer[] = []
  socket.on('message', (msg, rinfo) => {
    received.push(msg)
    for (const reply of handler(msg)) socket.send(reply, rinfo.port, rinfo.address)
  })
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve))
  const { port } = socket.address()
  const send = (data: Uint8Array, to: number) =>
    new Promise<void>((resolve) => socket.send(data, to, '127.0.0.1', () => resolve()))
  return { port, received, send, close: () => new Promise((resolve) => socket.close(() => resolve())) }
}

export interface PmpOptions {
  externalAddress?: string
  epoch?: number
  /** Answer PCP (version 2)? If not, PCP requests get a NAT-PMP UNSUPP_VERSION header. */
  pcp?: boolean
  natpmp?: boolean
  /** Result code for every map request (0 = grant). */
  resultCode?: number
  /** Lifetime granted, seconds; default: as requested. */
  grantLifetime?: number
  /** External port granted; default: as suggested (or the internal port when 0). */
  grantPort?: number
  /** Send a garbage datagram before each reply. */
  garbageFirst?: boolean
  /** Never answer. */
  silent?: boolean
}

/**
 * A NAT-PMP + PCP gateway (replies only, no forwarding). `options` is read live, so a test can change
 * the gateway's behaviour between requests.
 */
export function pmpHandler(options: PmpOptions = {}): (msg: Buffer) => Buffer[] {
  const o = Object.assign(options, { ...PMP_DEFAULTS, ...options }) as Resolved
  return (msg) => {
    if (o.silent) return []
    const reply = msg[0] === 2 ? pcpReply(msg, o) : msg[0] === 0 && o.natpmp ? natPmpReply(msg, o) : null
    if (!reply) return []
    return o.garbageFirst ? [Buffer.from([0xde, 0xad, 0xbe, 0xef, 1, 2, 3]), reply] : [reply]
  }
}

const PMP_DEFAULTS = { externalAddress: '203.0.113.7', epoch: 1234, pcp: true, natpmp: true, resultCode: 0 }

type Resolved = Required<Pick<PmpOptions, 'externalAddress' | 'epoch' | 'pcp' | 'resultCode'>> & PmpOptions

function natPmpReply(msg: Buffer, o: Resolved): Buffer | null {
  const op = msg[1]!
  if (op === 0 && msg.length === 2) {
    const out = Buffer.alloc(12)
    out[1] = 128
    out.writeUInt32BE(o.epoch, 4)
    Buffer.from(o.externalAddress.split('.').map(Number)).copy(out, 8)
    return out
  }
  if ((op !== 1 && op !== 2) || msg.length !== 12) return null
  const out = Buffer.alloc(16)
  out[1] = 128 + op
  out.writeUInt16BE(o.resultCode, 2)
  out.writeUInt32BE(o.epoch, 4)
  const internal = msg.readUInt16BE(4)
  const lifetime = msg.readUInt32BE(8)
  out.writeUInt16BE(internal, 8)
  out.writeUInt16BE(lifetime === 0 ? 0 : (o.grantPort ?? (msg.readUInt16BE(6) || internal)), 10)
  out.writeUInt32BE(lifetime === 0 ? 0 : (o.grantLifetime ?? lifetime), 12)
  return out
}

function pcpReply(msg: Buffer, o: Resolved): Buffer | null {
  if (!o.pcp) return Buffer.from([0, 0x81, 0, 1, 0, 0, 0, 9])
  if (msg.length !== 60 || msg[1] !== 1) return null
  const out = Buffer.from(msg)
  out[1] = 0x81
  out[2] = 0
  out[3] = o.resultCode
  const lifetime = msg.readUInt32BE(4)
  out.writeUInt32BE(lifetime === 0 ? 0 : (o.grantLifetime ?? lifetime), 4)
  out.writeUInt32BE(o.epoch, 8)
  out.fill(0, 12, 24)
  const suggested = msg.readUInt16BE(42)
  out.writeUInt16BE(o.grantPort ?? (suggested || msg.readUInt16BE(40)), 42)
  Buffer.from([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, ...o.externalAddress.split('.').map(Number)]).copy(
    out,
    44,
  )
  return out
}

export interface SoapCall {
  action: string
  serviceType: string
  args: Record<string, string>
}

export interface IgdFake {
  descriptionUrl: URL
  calls: SoapCall[]
  /** Live port mappings, key `TCP:40000`. */
  mappings: Map<string, Record<string, string>>
  close(): Promise<void>
}

export interface IgdOptions {
  externalAddress?: string
  /** Faults to answer per action, consumed in order: a number is a UPnPError code. */
  faults?: Record<string, number[]>
  /** Replace the description body. */
  description?: string
}

const ROOT_DESC = readFileSync(new URL('../../../spec/vectors/portmap/rootDesc.xml', import.meta.url), 'utf8')

/** An IGD on 127.0.0.1: miniupnpd's captured description, SOAP actions over a mapping table. */
export async function igdFake(options: IgdOptions = {}): Promise<IgdFake> {
  const calls: SoapCall[] = []
  const mappings = new Map<string, Record<string, string>>()
  const faults = structuredClone(options.faults ?? {})
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => {
      if (req.method === 'GET' && req.url === '/rootDesc.xml') {
        res.writeHead(200, { 'content-type': 'text/xml' }).end(options.description ?? ROOT_DESC)
        return
      }
      const call = parseSoap(String(req.headers.soapaction ?? ''), Buffer.concat(chunks).toString('utf8'))
      if (req.method !== 'POST' || req.url !== '/ctl/IPConn' || !call) {
        res.writeHead(404).end()
        return
      }
      calls.push(call)
      const fault = faults[call.action]?.shift()
      if (fault !== undefined) res.writeHead(500, { 'content-type': 'text/xml' }).end(faultXml(fault))
      else res.writeHead(200, { 'content-type': 'text/xml' }).end(perform(call, mappings, options))
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  return {
    descriptionUrl: new URL(`http://127.0.0.1:${port}/rootDesc.xml`),
    calls,
    mappings,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  }
}

function parseSoap(soapAction: string, body: string): SoapCall | null {
  const m = /^"?([^#"]+)#(\w+)"?$/.exec(soapAction)
  if (!m) return null
  const inner = new RegExp(`<u:${m[2]}[^>]*>([\\s\\S]*)</u:${m[2]}>`).exec(body)
  const args: Record<string, string> = {}
  for (const a of (inner?.[1] ?? '').matchAll(/<(\w+)>([^<]*)<\/\1>/g)) args[a[1]!] = a[2]!
  return { serviceType: m[1]!, action: m[2]!, args }
}

function perform(call: SoapCall, mappings: Map<string, Record<string, string>>, options: IgdOptions): string {
  const key = `${call.args.NewProtocol}:${call.args.NewExternalPort}`
  if (call.action === 'AddPortMapping') mappings.set(key, call.args)
  if (call.action === 'DeletePortMapping') mappings.delete(key)
  const out =
    call.action === 'GetExternalIPAddress'
      ? `<NewExternalIPAddress>${options.externalAddress ?? '203.0.113.2'}</NewExternalIPAddress>`
      : ''
  return (
    '<?xml version="1.0"?>\r\n<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/" ' +
    's:encodingStyle="http://schemas.xmlsoap.org/soap/encoding/"><s:Body>' +
    `<u:${call.action}Response xmlns:u="${call.serviceType}">${out}</u:${call.action}Response></s:Body></s:Envelope>`
  )
}

function faultXml(code: number): string {
  return (
    '<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/" ' +
    's:encodingStyle="http://schemas.xmlsoap.org/soap/encoding/"><s:Body><s:Fault><faultcode>s:Client</faultcode>' +
    '<faultstring>UPnPError</faultstring><detail><UPnPError xmlns="urn:schemas-upnp-org:control-1-0">' +
    `<errorCode>${code}</errorCode><errorDescription>Fault${code}</errorDescription></UPnPError></detail>` +
    '</s:Fault></s:Body></s:Envelope>'
  )
}

/** An SSDP responder on 127.0.0.1 answering every M-SEARCH with `location`. */
export function ssdpHandler(location: URL | string, extra: Buffer[] = []): (msg: Buffer) => Buffer[] {
  return (msg) => {
    if (!msg.toString('latin1').startsWith('M-SEARCH')) return []
    const st = /\r\nST: ([^\r]+)/.exec(msg.toString('latin1'))?.[1] ?? ''
    const reply = `HTTP/1.1 200 OK\r\nCACHE-CONTROL: max-age=120\r\nST: ${st}\r\nUSN: uuid:x::${st}\r\nLOCATION: ${location}\r\n\r\n`
    return [...extra, Buffer.from(reply)]
  }
}
