/**
 * The STUN server's I/O adapter: binds the UDP sockets a {@link StunServer} needs (one per local
 * endpoint, so CHANGE-REQUEST can be honoured) and a TCP listener on the primary endpoint.
 * Spec: `spec/stun.md` §6.3.
 * @module
 */
import dgram from 'node:dgram'
import net from 'node:net'
import { ipFamily } from '../addresses/ip.js'
import type { Endpoint } from './address.js'
import { StunError } from './errors.js'
import { StreamFramer } from './framer.js'
import { StunServer, type StunServerCounters } from './server.js'

/** Options of {@link startStunServer}. Port 0 picks a free port. */
export interface StartStunServerOptions {
  primary: Endpoint
  /** RFC 5780 alternate IP and/or port (port 0 picks one). */
  alternate?: { host?: string; port?: number }
  software?: string | null
  /** Also answer over TCP on the primary endpoint (default true). */
  tcp?: boolean
}

/** A running server: its bound endpoints, counters, and `close()`. */
export interface RunningStunServer {
  primary: Endpoint
  alternate: { host: string | undefined; port: number | undefined }
  counters: StunServerCounters
  close(): Promise<void>
}

/** Binds and starts answering; rejects with `STUN_TRANSPORT` if a socket cannot be bound. */
export async function startStunServer(options: StartStunServerOptions): Promise<RunningStunServer> {
  const sockets = new Map<string, dgram.Socket>()
  const closers: (() => Promise<void>)[] = []
  const close = async () => {
    await Promise.all(closers.map((c) => c()))
  }
  try {
    const first = await bindUdp(options.primary)
    const primary = { host: options.primary.host, port: first.address().port }
    sockets.set(key(primary), first)
    closers.push(() => closeUdp(first))
    const alternate = await bindAlternatePort(options, primary, sockets, closers)
    const server = new StunServer({ primary, alternate, software: options.software })
    for (const local of server.localEndpoints()) await ensureSocket(local, sockets, closers)
    for (const [name, socket] of sockets) serveUdp(server, socket, parseKey(name), sockets)
    if (options.tcp !== false) closers.push(await serveTcp(server, primary))
    return { primary, alternate: server.alternate, counters: server.counters, close }
  } catch (error) {
    await close()
    throw error instanceof StunError ? error : StunError.transport(error)
  }
}

async function bindAlternatePort(
  options: StartStunServerOptions,
  primary: Endpoint,
  sockets: Map<string, dgram.Socket>,
  closers: (() => Promise<void>)[],
): Promise<{ host?: string; port?: number } | undefined> {
  const alt = options.alternate
  if (alt?.port === undefined) return alt
  const socket = await bindUdp({ host: primary.host, port: alt.port })
  const port = socket.address().port
  sockets.set(key({ host: primary.host, port }), socket)
  closers.push(() => closeUdp(socket))
  return { host: alt.host, port }
}

async function ensureSocket(
  local: Endpoint,
  sockets: Map<string, dgram.Socket>,
  closers: (() => Promise<void>)[],
) {
  if (sockets.has(key(local))) return
  const socket = await bindUdp(local)
  sockets.set(key(local), socket)
  closers.push(() => closeUdp(socket))
}

function serveUdp(
  server: StunServer,
  socket: dgram.Socket,
  local: Endpoint,
  sockets: Map<string, dgram.Socket>,
) {
  socket.on('message', (bytes, rinfo) => {
    const reply = server.respond(bytes, { host: rinfo.address, port: rinfo.port }, local)
    // The reply may have to leave from another of our sockets (CHANGE-REQUEST).
    if (reply) sockets.get(key(reply.source))?.send(reply.bytes, reply.to.port, reply.to.host)
  })
}

function serveTcp(server: StunServer, primary: Endpoint): Promise<() => Promise<void>> {
  const connections = new Set<net.Socket>()
  const listener = net.createServer((socket) => {
    connections.add(socket)
    socket.on('close', () => connections.delete(socket))
    answerStream(server, socket, primary)
  })
  return new Promise((resolve, reject) => {
    listener.once('error', reject)
    listener.listen(primary.port, primary.host, () => {
      resolve(() => {
        for (const c of connections) c.destroy()
        return new Promise((done) => listener.close(() => done()))
      })
    })
  })
}

/** Answers each framed message on a TCP connection; a non-STUN stream is closed (RFC 8489 §6.2.2). */
function answerStream(server: StunServer, socket: net.Socket, local: Endpoint): void {
  const framer = new StreamFramer()
  const from = { host: socket.remoteAddress ?? '', port: socket.remotePort ?? 0 }
  socket.on('error', () => socket.destroy())
  socket.on('data', (chunk: Buffer) => {
    try {
      framer.push(chunk)
      for (let m = framer.next(); m; m = framer.next()) {
        const reply = server.handle(m, from, local)
        if (reply) socket.write(reply)
      }
    } catch {
      server.counters.dropped++
      socket.destroy()
    }
  })
}

function bindUdp(local: Endpoint): Promise<dgram.Socket> {
  const socket = dgram.createSocket(ipFamily(local.host) === 'IPv6' ? 'udp6' : 'udp4')
  return new Promise((resolve, reject) => {
    socket.once('error', (err) => {
      socket.close()
      reject(StunError.transport(err))
    })
    socket.bind(local.port, local.host, () => {
      socket.removeAllListeners('error')
      socket.on('error', () => {}) // ICMP errors on send are not fatal to a server
      resolve(socket)
    })
  })
}

function closeUdp(socket: dgram.Socket): Promise<void> {
  return new Promise((resolve) => socket.close(() => resolve()))
}

function key(endpoint: Endpoint): string {
  return JSON.stringify([endpoint.host, endpoint.port])
}

function parseKey(name: string): Endpoint {
  const [host, port] = JSON.parse(name) as [string, number]
  return { host, port }
}
