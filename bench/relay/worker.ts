/**
 * One side of a `bench/relay` measurement, in its own process (forked by index.ts through tsx). Jobs
 * arrive over IPC (see {@link Job}). The same pairctl channel runs either straight over loopback TCP
 * (`direct`) or through the relay process (`relayed`): a listener holds a reservation under a token it
 * draws and reports, the dialer presents it. Every connection is loopback.
 */
import { createServer, type Server, connect as tcpConnect } from 'node:net'
import type { Duplex } from 'node:stream'
import { openChannel } from '../../lib/channel/index.js'
import { Ed25519KeyPair, fromHex, randomBytes, toHex } from '../../lib/crypto/index.js'
import { dialRelay, type RelayAddress, Reservation } from '../../lib/relay/index.js'

export type Mode = 'direct' | 'relayed'
/** Where a dialer goes: a TCP port, or a relay and the token the listener reserved. */
export interface Target {
  mode: Mode
  port: number
  relay: RelayAddress
  token: string
}
export type Job =
  /** Listen; count `bytes` of one channel's stream and report the time from its first byte to its last. */
  | { type: 'sink'; mode: Mode; relay: RelayAddress; bytes: number }
  /** Listen; on each channel, write one byte at once (the latency benchmark's far end). */
  | { type: 'greeter'; mode: Mode; relay: RelayAddress }
  | { type: 'source'; target: Target; bytes: number }
  /** `count` times, one after the other: dial, handshake, wait for the greeter's byte, close. */
  | { type: 'latency'; target: Target; count: number }
  /** Hold `count` raw circuits through the relay, each checked by an echoed byte; see {@link circuits}. */
  | { type: 'circuits'; relay: RelayAddress; count: number }
  | { type: 'release' }
  | { type: 'stop' }

const identity = Ed25519KeyPair.generate()
const CHUNK = 1024 * 1024
/** Circuits opened at a time, so the relay's accept timeout never races a thousand handshakes. */
const CIRCUIT_BATCH = 50
const ECHO_TIMEOUT_MS = 30_000
let closeListener: () => void = () => {}
let held: Duplex[] = []

/** Where a listener can be dialed: its TCP port, or the token it reserved (hex). */
interface Listening {
  port: number
  token: string
}

/** Accepts raw streams: TCP connections, or the circuits of a fresh reservation. */
async function listen(
  mode: Mode,
  relay: RelayAddress,
  onStream: (stream: Duplex) => void,
): Promise<Listening> {
  closeListener()
  if (mode === 'direct') {
    const server: Server = createServer({ noDelay: true }, onStream)
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    closeListener = () => server.close()
    return { port: (server.address() as { port: number }).port, token: '' }
  }
  const token = randomBytes(32)
  const reservation = new Reservation(relay, [token]).start()
  reservation.on('circuit', ({ stream }) => onStream(stream))
  await new Promise<void>((resolve) => reservation.once('reserved', () => resolve()))
  closeListener = () => reservation.close()
  return { port: 0, token: toHex(token) }
}

async function dialRaw(target: Target): Promise<Duplex> {
  if (target.mode === 'relayed') return dialRelay(target.relay, fromHex(target.token))
  const socket = tcpConnect({ port: target.port, host: '127.0.0.1', noDelay: true })
  await new Promise((resolve, reject) => socket.once('connect', resolve).once('error', reject))
  return socket
}

async function dialChannel(target: Target): Promise<Duplex> {
  return (await openChannel(await dialRaw(target), { role: 'initiator', identity })).stream()
}

function respond(raw: Duplex, onChannel: (stream: Duplex) => void): void {
  raw.on('error', () => {})
  openChannel(raw, { role: 'responder', identity }).then(
    (channel) => onChannel(channel.stream()),
    () => {},
  )
}

async function sink(job: Extract<Job, { type: 'sink' }>): Promise<void> {
  const listening = await listen(job.mode, job.relay, (raw) =>
    respond(raw, (stream) => {
      let received = 0
      let start = 0
      stream.on('error', () => {})
      stream.on('data', (chunk: Buffer) => {
        if (received === 0) start = performance.now()
        received += chunk.length
        if (received < job.bytes) return
        process.send!({ ms: performance.now() - start, received })
        stream.destroy()
      })
    }),
  )
  process.send!(listening)
}

async function greeter(job: Extract<Job, { type: 'greeter' }>): Promise<void> {
  const listening = await listen(job.mode, job.relay, (raw) =>
    respond(raw, (stream) => {
      stream.on('error', () => {})
      stream.resume()
      stream.write(Buffer.of(1))
    }),
  )
  process.send!(listening)
}

async function source(job: Extract<Job, { type: 'source' }>): Promise<void> {
  const stream = await dialChannel(job.target)
  stream.on('error', () => {})
  const data = Buffer.from(randomBytes(CHUNK))
  for (let sent = 0; sent < job.bytes; sent += CHUNK) {
    if (!stream.write(data.subarray(0, Math.min(CHUNK, job.bytes - sent))))
      await new Promise((resolve) => stream.once('drain', resolve))
  }
  await new Promise((resolve) => stream.end(resolve))
  process.send!({ sent: job.bytes })
}

async function latency(job: Extract<Job, { type: 'latency' }>): Promise<void> {
  const once = async () => {
    const start = performance.now()
    const stream = await dialChannel(job.target)
    stream.on('error', () => {})
    await new Promise((resolve) => stream.once('data', resolve))
    const ms = performance.now() - start
    stream.destroy()
    return ms
  }
  for (let i = 0; i < Math.ceil(job.count / 10); i++) await once() // warm-up, untimed: JIT both ways alike
  const samples: number[] = []
  for (let i = 0; i < job.count; i++) samples.push(await once())
  process.send!({ samples })
}

/**
 * Opens `count` circuits under one reservation (a token can be dialed any number of times), the
 * listener's end echoing what it reads, and holds them idle. Each dialer end then sends one byte and
 * waits for it back: `live` counts the circuits that answered.
 */
async function circuits(job: Extract<Job, { type: 'circuits' }>): Promise<void> {
  const accepted: Duplex[] = []
  const listening = await listen('relayed', job.relay, (stream) => {
    stream.on('error', () => {})
    stream.on('data', (chunk: Buffer) => stream.write(chunk))
    accepted.push(stream)
  })
  const token = fromHex(listening.token)
  const dialers: Duplex[] = []
  for (let opened = 0; opened < job.count; opened += CIRCUIT_BATCH) {
    const batch = Math.min(CIRCUIT_BATCH, job.count - opened)
    dialers.push(...(await Promise.all(Array.from({ length: batch }, () => dialRelay(job.relay, token)))))
  }
  for (const stream of dialers) stream.on('error', () => {})
  const echoes = await Promise.all(dialers.map(echoed))
  held = [...dialers, ...accepted]
  process.send!({ live: echoes.filter(Boolean).length, accepted: accepted.length })
}

function echoed(stream: Duplex): Promise<boolean> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(false), ECHO_TIMEOUT_MS)
    stream.once('data', (chunk: Buffer) => {
      clearTimeout(timer)
      resolve(chunk.length === 1 && chunk[0] === 7)
    })
    stream.write(Buffer.of(7))
  })
}

process.on('message', (job: Job) => {
  if (job.type === 'sink') void sink(job)
  else if (job.type === 'greeter') void greeter(job)
  else if (job.type === 'source') void source(job)
  else if (job.type === 'latency') void latency(job)
  else if (job.type === 'circuits') void circuits(job)
  else if (job.type === 'release') {
    for (const stream of held) stream.destroy()
    held = []
    closeListener()
    process.send!({ released: true })
  } else {
    closeListener()
    process.disconnect()
  }
})
