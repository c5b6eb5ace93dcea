/**
 * `npm run fuzz [-- --quick]`: throws mutated and random input at live pairctl services on 127.0.0.1 and
 * checks each still serves a legitimate request afterwards, with memory bounded (issue #17 item 1).
 *
 * Phases, each against a fresh target in this process:
 * - dht: a bootstrap node (DHT server + STUN) gets datagrams from many source ports, mutated from valid
 *   PING, FIND_NODE, GET, PUT requests, a FIND_NODE response and a STUN Binding request, or random;
 *   then a PING from a fresh socket must be answered.
 * - tcp: a node's pairing/presence listener gets connections carrying preambles, garbage and truncated or
 *   mutated Noise handshakes; then a real pairing connection (preamble, Noise XX, `hello`) must get the
 *   node's `PAIRING_NOT_FOUND` answer.
 * - relay: a relay server gets WebSocket messages mutated from valid control messages, and raw bytes
 *   (mutated HTTP upgrades, garbage) on its TCP port; then a reservation and a circuit must work.
 * - control: a daemon's control socket gets WebSocket text and binary frames mutated from valid requests,
 *   and raw bytes on the Unix socket; then `status` must answer.
 *
 * Memory: heapUsed and RSS after a forced GC (run under `--expose-gc`, as `npm run fuzz` does) before and
 * after each phase; a phase fails if heapUsed grew by more than {@link HEAP_GROWTH_BOUND}. Inputs come from
 * a seeded generator, so a failing run repeats. `--only=dht,tcp,relay,control` picks phases. Prints one table; exits 1 if any check failed.
 */
import { createSocket, type Socket as UdpSocket } from 'node:dgram'
import { mkdtemp, rm } from 'node:fs/promises'
import { connect, type Socket } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { setImmediate as nextTurn, setTimeout as sleep } from 'node:timers/promises'
import { WebSocket } from 'ws'
import { ChannelCore } from '../lib/channel/core.js'
import { ControlClient } from '../lib/control/client.js'
import { CONTROL_PATH } from '../lib/control/constants.js'
import { Ed25519KeyPair, utf8, X25519KeyPair } from '../lib/crypto/index.js'
import { encodeAddress } from '../lib/dht/address.js'
import { Command } from '../lib/dht/constants.js'
import { decodeMessage, encodeRequest, encodeResponse } from '../lib/dht/messages.js'
import { signRecord } from '../lib/dht/record.js'
import { createNode, startBootstrapNode, startDaemon } from '../lib/node/index.js'
import { openPairingChannel } from '../lib/pairing/channel.js'
import { PAIRING_PROLOGUE, PROTOCOL_VERSION } from '../lib/pairing/constants.js'
import {
  decodeMessage as decodePairingMessage,
  encodeMessage as encodePairingMessage,
} from '../lib/pairing/messages.js'
import { encodePreamble } from '../lib/presence/index.js'
import { RELAY_PATH } from '../lib/relay/constants.js'
import { dialRelay, encodeClientMessage, RelayServer, Reservation } from '../lib/relay/index.js'
import { createBindingRequest } from '../lib/stun/index.js'
import { SeededRandom } from '../test/fuzz/helpers/arbitraries.js'

const quick = process.argv.includes('--quick')
/** `--only=dht,relay` runs just those phases (for working on one target). */
const only = process.argv
  .find((arg) => arg.startsWith('--only='))
  ?.slice('--only='.length)
  .split(',')
const selected = (name: string) => only === undefined || only.includes(name)
/** Inputs per phase: the full run meets the minimums; `--quick` fits CI's minute. */
const COUNTS = quick
  ? { dht: 100_000, tcp: 5_000, relay: 5_000, control: 20_000 }
  : { dht: 1_000_000, tcp: 100_000, relay: 100_000, control: 100_000 }
/** Largest heapUsed growth (after GC) a phase may leave behind. */
const HEAP_GROWTH_BOUND = 32 * 1024 * 1024
const HOST = '127.0.0.1'
const MiB = 1024 * 1024

interface PhaseResult {
  phase: string
  inputs: number
  seconds: number
  detail: string
  heapBefore: number
  heapAfter: number
  rssBefore: number
  rssAfter: number
  check: string
  ok: boolean
}

const gc = (globalThis as { gc?: () => void }).gc

async function memory(): Promise<{ heap: number; rss: number }> {
  // Sockets closed by the phase release their buffers a turn or two later.
  await sleep(100)
  gc?.()
  gc?.()
  const { heapUsed, rss } = process.memoryUsage()
  return { heap: heapUsed, rss }
}

/** Runs `fuzz`, then `check`; a check that throws or returns false fails the phase. */
async function phase(
  name: string,
  /** Inputs sent, read once the fuzzing finished (a phase may count as it goes). */
  inputs: () => number,
  fuzz: () => Promise<string>,
  check: () => Promise<string>,
): Promise<PhaseResult> {
  const before = await memory()
  const started = performance.now()
  const detail = await fuzz()
  const seconds = (performance.now() - started) / 1000
  let checkText: string
  let ok: boolean
  try {
    checkText = await check()
    ok = true
  } catch (err) {
    checkText = `FAILED: ${err instanceof Error ? err.message : String(err)}`
    ok = false
  }
  const after = await memory()
  const grew = after.heap - before.heap
  if (grew > HEAP_GROWTH_BOUND) {
    ok = false
    checkText += `; heap grew ${(grew / MiB).toFixed(1)} MiB > ${HEAP_GROWTH_BOUND / MiB} MiB`
  }
  const result = {
    phase: name,
    inputs: inputs(),
    seconds,
    detail,
    heapBefore: before.heap,
    heapAfter: after.heap,
    rssBefore: before.rss,
    rssAfter: after.rss,
    check: checkText,
    ok,
  }
  console.error(`${name}: ${ok ? 'ok' : 'FAILED'} (${result.inputs} inputs, ${seconds.toFixed(1)} s)`)
  return result
}

/** Rejects with `what` unless `promise` settles within `ms`. */
function within<T>(ms: number, what: string, promise: Promise<T>): Promise<T> {
  return Promise.race([
    promise,
    sleep(ms).then(() => {
      throw new Error(`${what}: no answer within ${ms} ms`)
    }),
  ])
}

// --- dht -----------------------------------------------------------------------------------------

/** Source sockets in use at once; each is replaced after {@link DATAGRAMS_PER_SOCKET}, for many ports. */
const UDP_SOCKETS = 128
const DATAGRAMS_PER_SOCKET = 500
/** Datagrams sent between yields to the event loop. */
const UDP_BATCH = 32

async function udpSocket(onMessage: (data: Buffer) => void): Promise<UdpSocket> {
  const socket = createSocket('udp4')
  socket.on('message', onMessage)
  socket.on('error', () => {})
  await new Promise<void>((resolve) => socket.bind(0, HOST, resolve))
  return socket
}

async function dhtPhase(random: SeededRandom): Promise<PhaseResult> {
  const node = await startBootstrapNode({ host: HOST })
  const to = encodeAddress({ host: HOST, port: node.port })
  const key = new Uint8Array(32).fill(7)
  const publisher = Ed25519KeyPair.fromSeed(new Uint8Array(32).fill(8))
  const record = signRecord(
    'pairing',
    key,
    { seq: 1, expiresAt: Date.now() + 60_000, value: utf8('v') },
    publisher,
  )
  const samples = [
    encodeRequest({ t: 1, c: Command.PING, to }, {}),
    encodeRequest({ t: 2, c: Command.FIND_NODE, to }, { tg: key }),
    encodeRequest({ t: 3, c: Command.GET, to }, { ns: 'pairing', k: key }),
    encodeRequest({ t: 4, c: Command.PUT, to }, { ns: 'pairing', k: key, tk: new Uint8Array(16), r: record }),
    encodeResponse({ t: 5, c: Command.FIND_NODE, to }, { n: [to] }, 1200)!,
    createBindingRequest().bytes,
  ]
  let replies = 0
  let ports = 0
  const sockets: UdpSocket[] = []
  const fresh = async () => {
    ports++
    return udpSocket(() => replies++)
  }
  for (let i = 0; i < UDP_SOCKETS; i++) sockets.push(await fresh())
  const fuzz = async () => {
    for (let i = 0; i < COUNTS.dht; i++) {
      const slot = i % UDP_SOCKETS
      if (i > 0 && i % (UDP_SOCKETS * DATAGRAMS_PER_SOCKET) === slot) {
        sockets[slot]!.close()
        sockets[slot] = await fresh()
      }
      sockets[slot]!.send(random.input(samples, 1300), node.port, HOST)
      // libuv reads at most 32 datagrams per poll: yield after as many, or the node's buffer overflows.
      if (i % UDP_BATCH === UDP_BATCH - 1) await nextTurn()
    }
    await sleep(200)
    for (const socket of sockets) socket.close()
    const { dht, stun } = node.stats()
    const sum = (key: 'answered' | 'errors' | 'dropped') =>
      stun.reduce((total, server) => total + server[key], 0)
    return (
      `${ports} source ports; node read ${dht.datagramsIn} DHT-bound (${dht.malformed} malformed, ` +
      `${dht.rateLimited} rate-limited, ${dht.requestsServed} served) + STUN ${sum('answered')} answered, ` +
      `${sum('errors')} error replies, ${sum('dropped')} dropped; replies received ${replies}; ` +
      `table ${dht.tableSize}, records ${dht.records}`
    )
  }
  const check = async () => {
    // The per-endpoint rate limiter may still hold the fuzzed ports' buckets; a fresh port has its own.
    for (let attempt = 1; attempt <= 10; attempt++) {
      let answered: (reply: Buffer) => void = () => {}
      const answer = new Promise<Buffer>((resolve) => (answered = resolve))
      const socket = await udpSocket((reply) => answered(reply))
      socket.send(encodeRequest({ t: 4242, c: Command.PING, to }, {}), node.port, HOST)
      const reply = await Promise.race([answer, sleep(500).then(() => null)])
      socket.close()
      const message = reply === null ? null : decodeMessage(reply)
      if (message?.y === 1 && message.t === 4242) return `PING answered (attempt ${attempt})`
    }
    throw new Error('no PING reply from a fresh socket')
  }
  try {
    return await phase('dht (UDP)', () => COUNTS.dht, fuzz, check)
  } finally {
    await node.close()
  }
}

// --- tcp -------------------------------------------------------------------------------------------

/** Connections in flight at once against a TCP or Unix listener. */
const CONCURRENCY = 64

/** Opens a connection, writes `data`, half-closes, and resolves when the peer closed it (or after 2 s). */
function sendAndClose(options: { port: number } | { path: string }, data: Uint8Array): Promise<void> {
  return new Promise((resolve) => {
    const socket: Socket = 'port' in options ? connect(options.port, HOST) : connect(options.path)
    const done = () => {
      clearTimeout(timer)
      socket.destroy()
      resolve()
    }
    const timer = setTimeout(done, 2000)
    socket.on('error', done)
    socket.on('close', done)
    socket.on('data', () => {})
    socket.on('connect', () => socket.end(data))
  })
}

/** Runs `count` jobs, {@link CONCURRENCY} at a time. */
async function pool(count: number, job: (index: number) => Promise<void>): Promise<void> {
  let next = 0
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next < count) await job(next++)
    }),
  )
}

/** A real Noise XX first flight (framed) as a pairing initiator sends it, and an IK-sized stand-in. */
function handshakeFlight(): Uint8Array {
  const core = new ChannelCore(
    {
      role: 'initiator',
      pattern: 'XX',
      staticKey: X25519KeyPair.generate(),
      prologue: utf8(PAIRING_PROLOGUE),
      handshakeTimeoutMs: 10_000,
      idleTimeoutMs: 60_000,
      keepaliveMs: 15_000,
    },
    Date.now(),
  )
  return Buffer.concat(core.pollTransmit() ?? [])
}

async function tcpPhase(random: SeededRandom, bootstrap: string[], dir: string): Promise<PhaseResult> {
  const node = await createNode({ dir: join(dir, 'tcp'), host: HOST, bootstrap, lanDiscovery: false })
  const port = node.status('fuzz').listen.find((address) => address.protocol === 'tcp')!.port
  const flight = handshakeFlight()
  const pairing = encodePreamble('pairing')
  const reconnect = encodePreamble('reconnect')
  const samples = [
    pairing,
    reconnect,
    Buffer.concat([pairing, flight]),
    Buffer.concat([reconnect, flight, random.bytes(96)]),
    Buffer.concat([pairing, Uint8Array.of(0xff, 0xff), random.bytes(200)]),
  ]
  const fuzz = async () => {
    await pool(COUNTS.tcp, () => sendAndClose({ port }, random.input(samples, 400)))
    return `${CONCURRENCY} connections at a time, one input each`
  }
  const check = async () => {
    const socket = connect(port, HOST)
    await new Promise((resolve, reject) => socket.once('connect', resolve).once('error', reject))
    try {
      socket.write(pairing)
      const channel = await within(
        5000,
        'pairing handshake',
        openPairingChannel(socket, { role: 'initiator' }),
      )
      const advert = new Uint8Array(32).fill(1)
      await channel.send(
        encodePairingMessage({
          v: PROTOCOL_VERSION,
          type: 'hello',
          advert,
          share: new Uint8Array(32).fill(2),
        }),
      )
      const first = await within(5000, 'answer to hello', channel.messages()[Symbol.asyncIterator]().next())
      const answer = first.done ? null : decodePairingMessage(first.value)
      if (answer?.type !== 'error' || answer.code !== 'PAIRING_NOT_FOUND')
        throw new Error(`unexpected answer ${JSON.stringify(answer)}`)
      channel.destroy()
      return 'pairing handshake + hello answered PAIRING_NOT_FOUND'
    } finally {
      socket.destroy()
    }
  }
  try {
    return await phase('tcp listener', () => COUNTS.tcp, fuzz, check)
  } finally {
    await node.close()
  }
}

// --- relay -----------------------------------------------------------------------------------------

/** Sends one WebSocket message (binary or text) on a new connection; resolves when it closed (or 2 s). */
function wsSendAndClose(url: string, data: Uint8Array, binary: boolean): Promise<void> {
  return new Promise((resolve) => {
    const ws = new WebSocket(url)
    const done = () => {
      clearTimeout(timer)
      ws.terminate()
      resolve()
    }
    const timer = setTimeout(done, 2000)
    ws.on('error', done)
    ws.on('close', done)
    ws.on('open', () => {
      ws.send(binary ? data : Buffer.from(data).toString('latin1'), { binary })
      // The relay closes on a bad message; a valid one (a reservation, a dial) waits, so close after a turn.
      setTimeout(() => ws.close(), 20)
    })
  })
}

async function relayPhase(random: SeededRandom): Promise<PhaseResult> {
  // Every fuzz connection comes from 127.0.0.1: lift the per-IP caps so inputs reach the parser.
  const server = await RelayServer.listen({
    host: HOST,
    port: 0,
    limits: { connectionsPerIp: 4096, upgradesPerIp: 4096, circuitsPerIp: 2048 },
  })
  const { port } = server.address()
  const url = `ws://${HOST}:${port}${RELAY_PATH}`
  const token = random.bytes(32)
  const messages = [
    encodeClientMessage({ v: 1, t: 'reserve', tks: [token, random.bytes(32)] }),
    encodeClientMessage({ v: 1, t: 'connect', tk: token }),
    encodeClientMessage({ v: 1, t: 'accept', c: random.bytes(16) }),
  ]
  const upgrade = utf8(
    `GET ${RELAY_PATH} HTTP/1.1\r\nHost: ${HOST}:${port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
      'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n',
  )
  const raw = [upgrade, Buffer.concat([upgrade, Uint8Array.of(0x82, 0x85), random.bytes(9)])]
  let wsInputs = 0
  const fuzz = async () => {
    await pool(COUNTS.relay, async () => {
      if (random.below(2) === 0) {
        wsInputs++
        await wsSendAndClose(url, random.input(messages, 200), random.below(8) !== 0)
      } else await sendAndClose({ port }, random.input(raw, 400))
    })
    const left = server.core.connectionCount
    return `${wsInputs} WebSocket messages, ${COUNTS.relay - wsInputs} raw TCP inputs; core connections left ${left}`
  }
  const check = async () => {
    const reservation = new Reservation({ host: HOST, port }, [token]).start()
    try {
      await within(
        5000,
        'reservation',
        new Promise<void>((resolve) => reservation.once('reserved', () => resolve())),
      )
      const incoming = new Promise<Buffer>((resolve) =>
        reservation.once('circuit', ({ stream }) => stream.once('data', (chunk: Buffer) => resolve(chunk))),
      )
      const stream = await within(5000, 'dial', dialRelay({ host: HOST, port }, token))
      stream.write('ping through the relay')
      const got = await within(5000, 'circuit data', incoming)
      stream.destroy()
      if (got.toString() !== 'ping through the relay') throw new Error('circuit altered the bytes')
      return 'reservation, dial and circuit bytes work'
    } finally {
      reservation.close()
    }
  }
  try {
    return await phase('relay server', () => COUNTS.relay, fuzz, check)
  } finally {
    await server.close()
  }
}

// --- control ---------------------------------------------------------------------------------------

/** Requests of methods that neither start network activity nor read files: safe to mutate blindly. */
const CONTROL_SAMPLES = [
  { id: 1, method: 'status', params: {} },
  { id: 2, method: 'devices.list', params: {} },
  { id: 3, method: 'devices.remove', params: { device: 'bob' } },
  { id: 4, method: 'messages.send', params: { device: 'bob', text: 'hi' } },
  { id: 5, method: 'transfers.list', params: {} },
  { id: 6, method: 'transfers.accept', params: { id: 'abcdef' } },
  { id: 7, method: 'pairing.confirm', params: { sessionId: 'x', accept: true } },
  { id: 8, method: 'pairing.cancel', params: { sessionId: 'x' } },
].map((request) => utf8(JSON.stringify(request)))

/** Frames per control connection: the server answers each, so one connection carries many inputs. */
const CONTROL_FRAMES_PER_CONNECTION = 200

async function controlPhase(random: SeededRandom, bootstrap: string[], dir: string): Promise<PhaseResult> {
  const node = await createNode({ dir: join(dir, 'control'), host: HOST, bootstrap, lanDiscovery: false })
  const daemon = await startDaemon(node, '0.0.0-fuzz')
  const url = `ws+unix://${daemon.socketPath}:${CONTROL_PATH}`
  let answered = 0
  let frames = 0
  let rawInputs = 0
  const upgrade = utf8(
    `GET ${CONTROL_PATH} HTTP/1.1\r\nHost: localhost\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
      'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n',
  )
  const connection = (count: number) =>
    new Promise<void>((resolve) => {
      const ws = new WebSocket(url)
      const done = () => {
        clearTimeout(timer)
        ws.terminate()
        resolve()
      }
      const timer = setTimeout(done, 10_000)
      let expected = count + 1 // the hello, then one answer per text frame
      ws.on('error', done)
      ws.on('close', done)
      ws.on('message', () => {
        answered++
        if (--expected === 0) done()
      })
      ws.on('open', () => {
        for (let i = 0; i < count; i++) {
          const data = random.input(CONTROL_SAMPLES, 300)
          const binary = random.below(10) === 0
          // Binary frames are answered too (as a parse error): every frame gets exactly one reply.
          ws.send(binary ? data : Buffer.from(data).toString('latin1'), { binary })
        }
      })
    })
  const fuzz = async () => {
    await pool(Math.ceil(COUNTS.control / CONTROL_FRAMES_PER_CONNECTION) * 2, async (index) => {
      if (index % 2 === 0) {
        frames += CONTROL_FRAMES_PER_CONNECTION
        await connection(CONTROL_FRAMES_PER_CONNECTION)
      } else {
        for (let i = 0; i < CONTROL_FRAMES_PER_CONNECTION / 4; i++, rawInputs++)
          await sendAndClose({ path: daemon.socketPath }, random.input([upgrade], 300))
      }
    })
    return `${frames} WebSocket frames (${answered} answers incl. hellos), ${rawInputs} raw socket inputs`
  }
  const check = async () => {
    const client = await within(5000, 'control connect', ControlClient.connect(daemon.socketPath, 'fuzz'))
    try {
      const status = await within(5000, 'status', client.request('status', {}))
      if (status.deviceId !== node.deviceId) throw new Error('status names another device')
      return 'status answered'
    } finally {
      await client.close()
    }
  }
  try {
    return await phase('control socket', () => frames + rawInputs, fuzz, check)
  } finally {
    await daemon.close()
    await node.close()
  }
}

// --- main ------------------------------------------------------------------------------------------

function table(results: PhaseResult[]): string {
  const rows = [
    ['phase', 'inputs', 'seconds', 'inputs/s', 'heap MiB before→after', 'RSS MiB before→after', 'check'],
    ...results.map((r) => [
      r.phase,
      String(r.inputs),
      r.seconds.toFixed(1),
      Math.round(r.inputs / r.seconds).toString(),
      `${(r.heapBefore / MiB).toFixed(1)}→${(r.heapAfter / MiB).toFixed(1)}`,
      `${(r.rssBefore / MiB).toFixed(1)}→${(r.rssAfter / MiB).toFixed(1)}`,
      r.check,
    ]),
  ]
  const widths = rows[0]!.map((_, column) => Math.max(...rows.map((row) => row[column]!.length)))
  const lines = rows.map((row) => row.map((cell, column) => cell.padEnd(widths[column]!)).join('  '))
  lines.splice(1, 0, widths.map((width) => '-'.repeat(width)).join('  '))
  return [...lines, '', ...results.map((r) => `${r.phase}: ${r.detail}`)].join('\n')
}

async function main(): Promise<number> {
  const random = new SeededRandom()
  const dir = await mkdtemp(join(tmpdir(), 'pairctl-fuzz-'))
  // The nodes of the tcp and control phases join through their own seed, never the network.
  const seed = await startBootstrapNode({ host: HOST })
  const bootstrap = [`${HOST}:${seed.port}`]
  const results: PhaseResult[] = []
  try {
    if (selected('dht')) results.push(await dhtPhase(random))
    if (selected('tcp')) results.push(await tcpPhase(random, bootstrap, dir))
    if (selected('relay')) results.push(await relayPhase(random))
    if (selected('control')) results.push(await controlPhase(random, bootstrap, dir))
  } finally {
    await seed.close()
    await rm(dir, { recursive: true, force: true })
  }
  console.log(
    `pairctl fuzz (${quick ? 'quick' : 'full'}, seed fixed${gc ? '' : ', no --expose-gc: memory without GC'})`,
  )
  console.log(table(results))
  const failed = results.filter((r) => !r.ok)
  if (failed.length > 0) console.log(`\nFAILED: ${failed.map((r) => r.phase).join(', ')}`)
  return failed.length === 0 ? 0 : 1
}

process.exitCode = await main()
