/**
 * A process the lab tests run inside a namespace (`ip netns exec pctl-x-hostA node --import tsx
 * agent.ts`). It reads one JSON command per stdin line and writes one JSON reply per stdout line,
 * `{ id, ok: true, value }` or `{ id, ok: false, error: { code, message } }`. It exits when stdin ends,
 * so it never outlives its test (and does nothing when a test runner starts it by itself).
 */
import dgram from 'node:dgram'
import net from 'node:net'
import { createInterface } from 'node:readline'
import { PortMapper, type PortMapperOptions } from '../../../lib/portmap/index.js'
import { classifyNat, stunBinding } from '../../../lib/stun/index.js'

type Command = { id: number; cmd: string } & Record<string, unknown>

const mappers = new Map<string, PortMapper>()
const servers: Array<net.Server | dgram.Socket> = []

const handlers: Record<string, (c: Command) => Promise<unknown>> = {
  mapper: async (c) => {
    mappers.set(c.name as string, await PortMapper.create(c.options as PortMapperOptions))
  },
  map: (c) => mapper(c).map(c.request as never),
  externalAddress: (c) => mapper(c).externalAddress(),
  mappings: async (c) => mapper(c).mappings(),
  counters: async (c) => mapper(c).counters,
  close: async (c) => {
    await mapper(c).close()
    mappers.delete(c.name as string)
  },
  echoServer: (c) => (c.protocol === 'tcp' ? tcpEcho(c.port as number) : udpEcho(c.port as number)),
  probe: (c) => (c.protocol === 'tcp' ? tcpProbe(c) : udpProbe(c)),
  stunBinding: (c) => stunBinding(c.server as { host: string; port: number }, c.options as never),
  classifyNat: (c) => classifyNat(c.server as { host: string; port: number }, c.options as never),
}

function mapper(c: Command): PortMapper {
  const found = mappers.get(c.name as string)
  if (!found) throw new Error(`no mapper ${String(c.name)}`)
  return found
}

/** TCP echo: replies `echo:<data>` on each connection. */
async function tcpEcho(port: number): Promise<number> {
  const server = net.createServer((sock) => {
    sock.on('data', (d) => sock.end(`echo:${d.toString()}`))
    sock.on('error', () => {})
  })
  servers.push(server)
  await new Promise<void>((resolve) => server.listen(port, '0.0.0.0', resolve))
  return port
}

/** UDP echo: answers each datagram with `echo:<data>` to its sender. */
async function udpEcho(port: number): Promise<number> {
  const socket = dgram.createSocket('udp4')
  socket.on('message', (msg, from) => socket.send(`echo:${msg.toString()}`, from.port, from.address))
  servers.push(socket)
  await new Promise<void>((resolve) => socket.bind(port, '0.0.0.0', resolve))
  return port
}

/** Connects, sends `payload`, resolves with the reply text; rejects on timeout or error. */
function tcpProbe(c: Command): Promise<string> {
  return new Promise((resolve, reject) => {
    const sock = net.connect({ host: c.host as string, port: c.port as number })
    const timer = setTimeout(() => sock.destroy(new Error('timeout')), c.timeoutMs as number)
    let reply = ''
    sock.on('connect', () => sock.write(c.payload as string))
    sock.on('data', (d) => {
      reply += d.toString()
    })
    sock.on('end', () => {
      clearTimeout(timer)
      resolve(reply)
    })
    sock.on('error', (err) => {
      clearTimeout(timer)
      reject(err)
    })
  })
}

/** Sends one datagram from a fresh socket, resolves with the first reply; rejects on timeout. */
function udpProbe(c: Command): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = dgram.createSocket('udp4')
    const done = (fn: () => void) => {
      clearTimeout(timer)
      socket.close()
      fn()
    }
    const timer = setTimeout(() => done(() => reject(new Error('timeout'))), c.timeoutMs as number)
    socket.on('message', (msg) => done(() => resolve(msg.toString())))
    socket.on('error', (err) => done(() => reject(err)))
    socket.send(c.payload as string, c.port as number, c.host as string)
  })
}

async function run(c: Command): Promise<void> {
  try {
    const value = await handlers[c.cmd]!(c)
    reply({ id: c.id, ok: true, value: value ?? null })
  } catch (err) {
    const e = err as { code?: string; message?: string; resultCode?: number }
    reply({
      id: c.id,
      ok: false,
      error: { code: e.code ?? 'ERROR', message: e.message, resultCode: e.resultCode },
    })
  }
}

function reply(message: unknown): void {
  process.stdout.write(
    `${JSON.stringify(message, (_k, v) => (v === Number.POSITIVE_INFINITY ? 'Infinity' : v))}\n`,
  )
}

async function shutdown(): Promise<void> {
  for (const m of mappers.values()) await m.close().catch(() => {})
  for (const s of servers) s.close()
}

const lines = createInterface({ input: process.stdin })
lines.on('line', (line) => void run(JSON.parse(line) as Command))
lines.on('close', () => void shutdown())
reply({ id: 0, ok: true, value: 'ready' })
