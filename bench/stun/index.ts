/**
 * STUN Binding throughput: requests answered per second by pairctl's server and by coturn, each in
 * its own process on 127.0.0.1, driven by one load-generator socket that keeps a window of requests
 * outstanding. Median of 3 alternating runs.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process'
import dgram from 'node:dgram'
import { once } from 'node:events'
import { fileURLToPath } from 'node:url'
import { encodeMessage, isStunMessage, StunClass, StunMethod } from '../../lib/stun/index.js'
import { type Benchmark, median, nowMs } from '../harness.js'

const WINDOW = 64
const RUNS = 3

/** Sends Binding requests from one socket, keeping `WINDOW` outstanding, for `ms`; returns answers/s. */
async function loadGenerate(port: number, ms: number): Promise<number> {
  const socket = dgram.createSocket('udp4')
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve))
  const request = encodeMessage({
    method: StunMethod.binding,
    cls: StunClass.request,
    transactionId: new Uint8Array(12),
    attributes: [],
  })
  let answered = 0
  let sent = 0
  const send = () => {
    // A fresh transaction id per request; no FINGERPRINT, which would go stale.
    new DataView(request.buffer, request.byteOffset).setUint32(8, sent++)
    socket.send(request, port, '127.0.0.1')
  }
  socket.on('message', (bytes) => {
    if (!isStunMessage(bytes)) return
    answered++
    send()
  })
  const start = nowMs()
  for (let i = 0; i < WINDOW; i++) send()
  // Refill after loss: if nothing came back for 50 ms, the window has drained.
  let lastAnswered = 0
  const refill = setInterval(() => {
    if (answered === lastAnswered) for (let i = 0; i < WINDOW; i++) send()
    lastAnswered = answered
  }, 50)
  await new Promise((resolve) => setTimeout(resolve, ms))
  clearInterval(refill)
  const rate = answered / ((nowMs() - start) / 1000)
  socket.close()
  return rate
}

async function startOurs(): Promise<{ port: number; child: ChildProcess }> {
  const script = fileURLToPath(new URL('./server-process.ts', import.meta.url))
  const child = spawn(process.execPath, ['--import', 'tsx', script], { stdio: ['ignore', 'pipe', 'inherit'] })
  const [line] = (await once(child.stdout!, 'data')) as [Buffer]
  return { port: Number(line.toString().trim()), child }
}

async function startCoturn(): Promise<{ port: number; child: ChildProcess }> {
  const port = await freeUdpPort()
  const args = [
    '-n',
    '--stun-only',
    '--no-cli',
    '--no-tls',
    '--no-dtls',
    '-L',
    '127.0.0.1',
    '-p',
    String(port),
  ]
  args.push('--log-file', 'stdout', '--simple-log', '--pidfile', `/tmp/pairctl-bench-coturn-${port}.pid`)
  const child = spawn('turnserver', args, { stdio: 'ignore' })
  await new Promise((resolve) => setTimeout(resolve, 500))
  if (child.exitCode !== null) throw new Error(`turnserver exited with ${child.exitCode}`)
  return { port, child }
}

async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return
  const exited = once(child, 'exit')
  child.kill('SIGTERM')
  const timer = setTimeout(() => child.kill('SIGKILL'), 2000)
  await exited
  clearTimeout(timer)
}

function requireCoturn(): void {
  try {
    execFileSync('sh', ['-c', 'command -v turnserver'], { stdio: 'ignore' })
  } catch {
    throw new Error('coturn (turnserver) is not installed: apt-get install -y coturn')
  }
}

async function freeUdpPort(): Promise<number> {
  const socket = dgram.createSocket('udp4')
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve))
  const { port } = socket.address()
  await new Promise<void>((resolve) => socket.close(() => resolve()))
  return port
}

const benchmark: Benchmark = {
  name: 'stun',
  async run({ quick }) {
    requireCoturn()
    const ms = quick ? 500 : 3000
    const ours = await startOurs()
    const coturn = await startCoturn()
    const oursRates: number[] = []
    const coturnRates: number[] = []
    try {
      for (let run = 0; run < RUNS; run++) {
        oursRates.push(await loadGenerate(ours.port, ms))
        coturnRates.push(await loadGenerate(coturn.port, ms))
      }
    } finally {
      await Promise.all([stop(ours.child), stop(coturn.child)])
    }
    return [
      {
        name: 'Binding requests answered per second (UDP, loopback)',
        unit: 'responses/s',
        better: 'higher',
        pairctl: Math.round(median(oursRates)),
        anchors: { coturn: Math.round(median(coturnRates)) },
        note: `one client socket, window ${WINDOW}, ${ms} ms per run, median of ${RUNS}; coturn with its default threads, pairctl one Node process`,
      },
    ]
  },
}

export default benchmark
