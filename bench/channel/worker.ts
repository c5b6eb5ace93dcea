/**
 * One side of a `bench/channel` measurement, in its own process (forked by index.ts through tsx).
 * Jobs arrive over IPC; see {@link Job}. Every connection is loopback.
 */
import { createRequire } from 'node:module'
import { createServer, type Server, type Socket, connect as tcpConnect } from 'node:net'
import type { Duplex } from 'node:stream'
import { createServer as createTlsServer, connect as tlsConnect } from 'node:tls'
import { openChannel } from '../../lib/channel/index.js'
import { Ed25519KeyPair, randomBytes } from '../../lib/crypto/index.js'
import { floorRead, floorWrite } from './floor.js'

export type Kind = 'tcp' | 'tls-chacha20' | 'tls-aes256' | 'secret-stream' | 'floor' | 'pairctl'
export interface Tls {
  key: string
  cert: string
}
export type Job =
  | { type: 'sink'; kind: Kind; bytes: number; tls: Tls }
  | { type: 'source'; kind: Kind; bytes: number; port: number; tls: Tls }
  | { type: 'echo-server'; kind: Kind; tls: Tls }
  | { type: 'handshakes'; kind: Kind; port: number; count: number; concurrency: number; tls: Tls }
  | { type: 'stop' }

const require = createRequire(import.meta.url)
const SecretStream = require('@hyperswarm/secret-stream') as new (initiator: boolean, raw: Socket) => Duplex
const identity = Ed25519KeyPair.generate()
const CHUNK = 1024 * 1024
const ciphers: Partial<Record<Kind, string>> = {
  'tls-chacha20': 'TLS_CHACHA20_POLY1305_SHA256',
  'tls-aes256': 'TLS_AES_256_GCM_SHA384',
}
let server: Server | undefined

/** Starts a server whose connections yield a plaintext Duplex per `kind`, and reports its port. */
function serve(kind: Kind, tls: Tls, onStream: (stream: Duplex) => void): void {
  const tlsOptions = { ...tls, minVersion: 'TLSv1.3' as const, ciphersuites: ciphers[kind] }
  server?.close()
  server = kind.startsWith('tls')
    ? createTlsServer(tlsOptions, onStream)
    : createServer({ noDelay: true }, (socket) => secureServerSide(kind, socket).then(onStream, () => {}))
  server.listen(0, '127.0.0.1', () =>
    process.send!({ type: 'port', port: (server!.address() as { port: number }).port }),
  )
}

async function secureServerSide(kind: Kind, socket: Socket): Promise<Duplex> {
  if (kind === 'secret-stream') return new SecretStream(false, socket)
  if (kind === 'pairctl') return (await openChannel(socket, { role: 'responder', identity })).stream()
  return socket
}

/** Connects and resolves with the plaintext Duplex once the secure layer is up. */
async function dial(kind: Kind, port: number, tls: Tls): Promise<Duplex> {
  if (kind.startsWith('tls')) {
    const options = {
      port,
      host: '127.0.0.1',
      ca: tls.cert,
      rejectUnauthorized: false,
      ciphersuites: ciphers[kind],
    }
    const socket = tlsConnect({ ...options, minVersion: 'TLSv1.3' })
    await new Promise((resolve, reject) => socket.once('secureConnect', resolve).once('error', reject))
    return socket
  }
  const socket = tcpConnect({ port, host: '127.0.0.1', noDelay: true })
  if (kind === 'pairctl') return (await openChannel(socket, { role: 'initiator', identity })).stream()
  if (kind === 'secret-stream') {
    const stream = new SecretStream(true, socket)
    await new Promise((resolve) => stream.once('connect', resolve))
    return stream
  }
  await new Promise((resolve) => socket.once('connect', resolve))
  return socket
}

/** Counts bytes from one connection; reports the time from the first to the last byte. */
function sink(job: Extract<Job, { type: 'sink' }>): void {
  serve(job.kind, job.tls, (stream) => {
    let received = 0
    let start = 0
    let cpu = process.cpuUsage()
    const onData = (chunk: Buffer) => {
      if (received === 0) {
        start = performance.now()
        cpu = process.cpuUsage()
      }
      received += chunk.length
      if (received < job.bytes) return
      process.send!({ type: 'result', ms: performance.now() - start, received, cpu: cpuMs(cpu) })
      stream.destroy()
    }
    if (job.kind === 'floor') floorRead(stream as Socket, onData)
    else stream.on('data', onData)
    stream.on('error', () => {})
  })
}

async function source(job: Extract<Job, { type: 'source' }>): Promise<void> {
  const stream = await dial(job.kind, job.port, job.tls)
  const data = Buffer.from(randomBytes(CHUNK))
  const write = writerOf(job.kind, stream)
  const cpu = process.cpuUsage()
  for (let sent = 0; sent < job.bytes; sent += CHUNK) {
    if (!write(data.subarray(0, Math.min(CHUNK, job.bytes - sent))))
      await new Promise((resolve) => stream.once('drain', resolve))
  }
  stream.on('error', () => {})
  await new Promise((resolve) => stream.end(resolve))
  process.send!({ type: 'result', cpu: cpuMs(cpu) })
}

/** How the source hands a chunk to `stream`: a plain write, or the floor's framing on the raw socket. */
function writerOf(kind: Kind, stream: Duplex): (chunk: Buffer) => boolean {
  if (kind !== 'floor') return (chunk) => stream.write(chunk)
  const iv = Buffer.alloc(12)
  const counter = { n: 0 }
  return (chunk) => floorWrite(stream as Socket, chunk, iv, counter)
}

/** User plus system CPU time of this process since `since`, in ms. */
function cpuMs(since: NodeJS.CpuUsage): number {
  const { user, system } = process.cpuUsage(since)
  return (user + system) / 1000
}

/** Echoes the first chunk of every connection back (the handshake benchmark's server). */
function echoServer(job: Extract<Job, { type: 'echo-server' }>): void {
  serve(job.kind, job.tls, (stream) => {
    stream.once('data', (chunk: Buffer) => stream.end(chunk))
    stream.on('error', () => {})
    stream.resume()
  })
}

/** `count` connections, `concurrency` at a time: connect, handshake, 1 byte there and back, close. */
async function handshakes(job: Extract<Job, { type: 'handshakes' }>): Promise<void> {
  await handshakeBatch(job, Math.ceil(job.count / 10)) // warm-up, untimed: JIT both sides alike
  const start = performance.now()
  await handshakeBatch(job, job.count)
  process.send!({ type: 'result', ms: performance.now() - start })
}

async function handshakeBatch(job: Extract<Job, { type: 'handshakes' }>, count: number): Promise<void> {
  let remaining = count
  const loop = async () => {
    while (remaining-- > 0) await oneHandshake(job)
  }
  await Promise.all(Array.from({ length: job.concurrency }, loop))
}

async function oneHandshake(job: Extract<Job, { type: 'handshakes' }>): Promise<void> {
  const stream = await dial(job.kind, job.port, job.tls)
  stream.on('error', () => {})
  const reply = new Promise((resolve) => stream.once('data', resolve))
  stream.write(Buffer.of(1))
  await reply
  stream.destroy()
}

process.on('message', (job: Job) => {
  if (job.type === 'sink') sink(job)
  else if (job.type === 'source') void source(job)
  else if (job.type === 'echo-server') echoServer(job)
  else if (job.type === 'handshakes') void handshakes(job)
  else {
    server?.close()
    server?.unref()
    process.disconnect()
  }
})
