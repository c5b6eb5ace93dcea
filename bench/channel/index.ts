/**
 * `bench/channel`: the pairctl secure channel against raw TCP, node:tls (TLS 1.3, ChaCha20-Poly1305 and
 * AES-256-GCM) and @hyperswarm/secret-stream — bulk throughput one way over loopback with sender and
 * receiver in separate processes, and handshakes per second (connect + handshake + 1 byte each way)
 * against node:tls, sequential and 8 at a time. TLS uses a self-signed Ed25519 certificate (see
 * {@link makeCertificate}).
 */
import { type ChildProcess, execFileSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { type Benchmark, forkWorker, type Metric, median, nextMessage } from '../harness.js'
import type { Job, Kind, Tls } from './worker.js'

const here = dirname(fileURLToPath(import.meta.url))
const MiB = 1024 * 1024
const anchorsOf: Record<Exclude<Kind, 'pairctl'>, string> = {
  tcp: 'raw TCP',
  'tls-chacha20': 'node:tls chacha20',
  'tls-aes256': 'node:tls aes-256-gcm',
  'secret-stream': '@hyperswarm/secret-stream',
  floor: 'floor: bare frames on node:crypto',
}
const kinds: Kind[] = ['tcp', 'tls-chacha20', 'tls-aes256', 'secret-stream', 'floor', 'pairctl']
/** What the throughput figure measures, the same way for every kind. */
const THROUGHPUT_NOTE =
  'loopback, sender and receiver in separate processes; the sender writes 1 MiB chunks and waits for drain, ' +
  'the receiver times its data events from the first byte to the last; pairctl: stream API, frames of ' +
  '65535 bytes, ChaCha20-Poly1305 through node:crypto; floor: the same frames and node:crypto calls straight ' +
  'on the socket, without handshake, stream layer, events or timers (bench/channel/floor.ts)'
/** What the CPU figures measure. */
const CPU_NOTE =
  'user + system CPU of the process per GiB moved, from its first byte to its last (the sender: from its ' +
  'first write until the end of its stream is flushed)'
/** What the handshake figures measure. */
const HANDSHAKE_NOTE =
  'connect + handshake + 1 byte each way, then the client destroys the connection; pairctl: Noise XX ' +
  '25519_ChaChaPoly_SHA256 with identity binding on both sides (each sends its Ed25519 signature over its ' +
  "static key and checks the peer's; a device signs its own binding once, and a checked (identity, static " +
  'key, signature) triple is remembered, as for a reconnecting peer; ephemeral keys come from a pool ' +
  'refilled after each handshake message goes out, spec/noise.md §2.5); node:tls: full TLS 1.3 handshakes ' +
  '(no session resumption) with a self-signed Ed25519 certificate'

function send(child: ChildProcess, job: Job): void {
  child.send(job)
}

/**
 * A throwaway self-signed Ed25519 certificate for localhost, made with the system's `openssl`; without
 * one, the test-only pair committed beside this file (a benchmark secret, never used elsewhere).
 */
function makeCertificate(): Tls {
  const dir = mkdtempSync(join(tmpdir(), 'pairctl-bench-'))
  const [key, cert] = [join(dir, 'key.pem'), join(dir, 'cert.pem')]
  try {
    const args = ['req', '-x509', '-newkey', 'ed25519', '-nodes', '-keyout', key, '-out', cert, '-days', '1']
    execFileSync('openssl', [...args, '-subj', '/CN=localhost'], { stdio: 'ignore' })
  } catch {
    return {
      key: readFileSync(join(here, 'fallback-key.pem'), 'utf8'),
      cert: readFileSync(join(here, 'fallback-cert.pem'), 'utf8'),
    }
  }
  try {
    return { key: readFileSync(key, 'utf8'), cert: readFileSync(cert, 'utf8') }
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}

/** What one transfer measured: MiB/s as the receiver saw it, and each side's CPU ms per GiB. */
interface Transfer {
  mibPerSecond: number
  receiverCpu: number
  senderCpu: number
}

/** One transfer of `bytes` from `sender` to `receiver`. */
async function transfer(
  kind: Kind,
  bytes: number,
  tls: Tls,
  receiver: ChildProcess,
  sender: ChildProcess,
): Promise<Transfer> {
  const listening = nextMessage<{ port: number }>(receiver)
  send(receiver, { type: 'sink', kind, bytes, tls })
  const { port } = await listening
  const received = nextMessage<{ ms: number; cpu: number }>(receiver)
  const sent = nextMessage<{ cpu: number }>(sender)
  send(sender, { type: 'source', kind, bytes, port, tls })
  const [{ ms, cpu }, source] = await Promise.all([received, sent])
  const GiB = bytes / (1024 * MiB)
  return { mibPerSecond: bytes / MiB / (ms / 1000), receiverCpu: cpu / GiB, senderCpu: source.cpu / GiB }
}

/** Handshakes per second of `count` connections, `concurrency` at a time. */
async function handshakeRate(
  kind: Kind,
  count: number,
  concurrency: number,
  tls: Tls,
  server: ChildProcess,
  client: ChildProcess,
) {
  const listening = nextMessage<{ port: number }>(server)
  send(server, { type: 'echo-server', kind, tls })
  const { port } = await listening
  const done = nextMessage<{ ms: number }>(client)
  send(client, { type: 'handshakes', kind, port, count, concurrency, tls })
  const { ms } = await done
  return count / (ms / 1000)
}

function metric(
  name: string,
  unit: string,
  samples: Map<Kind, number[]>,
  note: string,
  better: Metric['better'] = 'higher',
): Metric {
  const anchors: Record<string, number> = {}
  for (const [kind, values] of samples) if (kind !== 'pairctl') anchors[anchorsOf[kind]] = median(values)
  return { name, unit, better, pairctl: median(samples.get('pairctl')!), anchors, note }
}

function push(samples: Map<Kind, number[]>, kind: Kind, value: number): void {
  samples.set(kind, [...(samples.get(kind) ?? []), value])
}

const benchmark: Benchmark = {
  name: 'channel',
  async run({ quick }) {
    const bytes = quick ? 16 * MiB : 1024 * MiB
    const repetitions = quick ? 1 : 3
    const handshakeCount = quick ? 40 : 400
    const tls = makeCertificate()
    const [a, b] = [forkWorker(join(here, 'worker.ts')), forkWorker(join(here, 'worker.ts'))]
    try {
      const throughput = new Map<Kind, number[]>()
      const receiverCpu = new Map<Kind, number[]>()
      const senderCpu = new Map<Kind, number[]>()
      const sequential = new Map<Kind, number[]>()
      const concurrent = new Map<Kind, number[]>()
      for (let rep = 0; rep < repetitions; rep++) {
        for (const kind of kinds) {
          const result = await transfer(kind, bytes, tls, a, b)
          push(throughput, kind, result.mibPerSecond)
          push(receiverCpu, kind, result.receiverCpu)
          push(senderCpu, kind, result.senderCpu)
        }
        for (const kind of ['tls-chacha20', 'pairctl'] as const) {
          push(sequential, kind, await handshakeRate(kind, handshakeCount, 1, tls, a, b))
          push(concurrent, kind, await handshakeRate(kind, handshakeCount, 8, tls, a, b))
        }
      }
      const size = quick ? '16 MiB' : '1 GiB'
      const reps = `median of ${repetitions}`
      return [
        metric(`throughput ${size} one way`, 'MiB/s', throughput, `${THROUGHPUT_NOTE}, ${reps}`),
        metric('receiver CPU per GiB', 'ms', receiverCpu, `${CPU_NOTE}, ${reps}`, 'lower'),
        metric('sender CPU per GiB', 'ms', senderCpu, `${CPU_NOTE}, ${reps}`, 'lower'),
        metric(
          'handshakes/s sequential',
          'handshakes/s',
          sequential,
          `${HANDSHAKE_NOTE}; ${handshakeCount} connections one after the other, ${reps}`,
        ),
        metric(
          'handshakes/s 8 concurrent',
          'handshakes/s',
          concurrent,
          `as above, ${handshakeCount} connections 8 at a time, ${reps}`,
        ),
      ]
    } finally {
      for (const child of [a, b]) {
        send(child, { type: 'stop' })
        child.kill()
      }
    }
  },
}

export default benchmark
