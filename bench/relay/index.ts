/**
 * `bench/relay`: the pairctl channel through a relay against the same channel straight over TCP, in the
 * same run — bulk throughput one way and connect latency (dial to the first byte through the channel)
 * — and the memory the relay process spends per idle circuit with 1,000 of them open. Sender, receiver
 * and relay each run in their own process, all on loopback.
 */
import type { ChildProcess } from 'node:child_process'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { RelayLimits } from '../../lib/relay/index.js'
import { type Benchmark, forkWorker, type Metric, median, nextMessage, quantile } from '../harness.js'
import type { RelayCpu, RelayJob, RelayMemory } from './relay-process.js'
import type { Job, Mode, Target } from './worker.js'

const here = dirname(fileURLToPath(import.meta.url))
const MiB = 1024 * 1024
const GiB = 1024 * MiB
const DIRECT = 'direct: the same channel over TCP'
/**
 * The benchmark measures the relay, not its policy: the per-circuit byte rate (16 MiB/s by default)
 * would cap the throughput figure, and the per-IP and idle limits would refuse or close a thousand
 * circuits that all come from 127.0.0.1 and stay silent. Operators set these with `pairctl relay`'s flags.
 */
const LIMITS: Partial<RelayLimits> = {
  bytesPerSecond: 2 ** 40,
  connectionsPerIp: 4096,
  upgradesPerIp: 4096,
  maxConnections: 4096,
  circuitsPerIp: 2048,
  maxCircuits: 2048,
  idleTimeoutMs: 10 * 60_000,
}
const THROUGHPUT_NOTE =
  'loopback, sender, receiver and relay in separate processes; the sender writes 1 MiB chunks of the ' +
  "channel's stream API and waits for drain, the receiver times its data events from the first byte to " +
  'the last; relayed: WebSocket circuit through `RelayServer` (limits lifted, see bench/relay/index.ts)'
const LATENCY_NOTE =
  'from the dial to the first byte the listener writes once its channel is open: TCP connect (relayed: ' +
  'WebSocket to the relay, connect, the listener accepting on a new WebSocket, connected) + Noise XX ' +
  "handshake + 1 byte; the listener's reservation is already held, as a reachable device's is"
const MEMORY_NOTE =
  "the relay process's memory after a full GC, with the circuits open and idle minus before any, divided " +
  'by the circuit count; each circuit is two WebSockets (dialer and acceptor), under one reservation'

/** Sends `job` and resolves with the child's next message. */
function ask<T>(process: ChildProcess, job: Job | RelayJob): Promise<T> {
  const answer = nextMessage<T>(process)
  process.send(job)
  return answer
}

interface Processes {
  relay: ChildProcess
  relayAddress: { host: string; port: number }
  receiver: ChildProcess
  sender: ChildProcess
}

/** MiB/s of one transfer of `bytes`, as the receiver saw it, and the relay's CPU ms per GiB in it. */
async function transfer(mode: Mode, bytes: number, { relay, relayAddress, receiver, sender }: Processes) {
  const before = await ask<RelayCpu>(relay, { type: 'cpu' })
  const listening = await ask<Omit<Target, 'mode' | 'relay'>>(receiver, {
    type: 'sink',
    mode,
    relay: relayAddress,
    bytes,
  })
  const received = nextMessage<{ ms: number }>(receiver)
  const target: Target = { mode, relay: relayAddress, ...listening }
  const [{ ms }] = await Promise.all([received, ask(sender, { type: 'source', target, bytes })])
  const after = await ask<RelayCpu>(relay, { type: 'cpu' })
  return { mibPerSecond: bytes / MiB / (ms / 1000), relayCpu: (after.cpuMs - before.cpuMs) / (bytes / GiB) }
}

/** Connect latencies (ms) of `count` channels opened one after the other. */
async function latencies(mode: Mode, count: number, { relayAddress, receiver, sender }: Processes) {
  const listening = await ask<Omit<Target, 'mode' | 'relay'>>(receiver, {
    type: 'greeter',
    mode,
    relay: relayAddress,
  })
  const target: Target = { mode, relay: relayAddress, ...listening }
  const { samples } = await ask<{ samples: number[] }>(sender, { type: 'latency', target, count })
  return samples
}

/** Opens `count` idle circuits through the relay process and measures what they cost it. */
async function idleCircuits(count: number, { relay, relayAddress, receiver }: Processes) {
  const before = await ask<RelayMemory>(relay, { type: 'memory' })
  const { live } = await ask<{ live: number }>(receiver, { type: 'circuits', relay: relayAddress, count })
  const after = await ask<RelayMemory>(relay, { type: 'memory' })
  await ask(receiver, { type: 'release' })
  if (live !== count || after.circuits !== count)
    throw new Error(`${live} of ${count} circuits echoed; the relay counted ${after.circuits}`)
  return {
    rss: (after.rss - before.rss) / count,
    heap: (after.heapUsed - before.heapUsed) / count,
    live,
  }
}

function relayedVsDirect(
  name: string,
  unit: string,
  samples: Record<Mode, number[]>,
  better: Metric['better'],
  note: string,
): Metric {
  return {
    name,
    unit,
    better,
    pairctl: median(samples.relayed),
    anchors: { [DIRECT]: median(samples.direct) },
    note,
  }
}

const benchmark: Benchmark = {
  name: 'relay',
  async run({ quick }) {
    const bytes = quick ? 4 * MiB : 1024 * MiB
    const repetitions = quick ? 1 : 3
    const connects = quick ? 5 : 100
    const circuits = quick ? 50 : 1000
    const relay = forkWorker(join(here, 'relay-process.ts'), ['--expose-gc'], [JSON.stringify(LIMITS)])
    const [receiver, sender] = [forkWorker(join(here, 'worker.ts')), forkWorker(join(here, 'worker.ts'))]
    try {
      const { port } = await nextMessage<{ port: number }>(relay)
      const processes: Processes = { relay, relayAddress: { host: '127.0.0.1', port }, receiver, sender }
      const throughput: Record<Mode, number[]> = { direct: [], relayed: [] }
      const relayCpu: number[] = []
      const connect: Record<Mode, number[]> = { direct: [], relayed: [] }
      const connectP90: Record<Mode, number[]> = { direct: [], relayed: [] }
      for (let rep = 0; rep < repetitions; rep++) {
        for (const mode of ['direct', 'relayed'] as const) {
          const { mibPerSecond, relayCpu: cpu } = await transfer(mode, bytes, processes)
          throughput[mode].push(mibPerSecond)
          if (mode === 'relayed') relayCpu.push(cpu)
          const samples = await latencies(mode, connects, processes)
          connect[mode].push(median(samples))
          connectP90[mode].push(quantile(samples, 0.9))
        }
      }
      // Last, so the figure is what circuits cost a relay that has already run (its code compiled).
      const idle = await idleCircuits(circuits, processes)
      const reps = `median of ${repetitions} runs`
      const size = quick ? '4 MiB' : '1 GiB'
      const memory = `${MEMORY_NOTE}; all ${idle.live} circuits echoed a byte before the measurement`
      return [
        relayedVsDirect(
          `throughput ${size} one way, relayed`,
          'MiB/s',
          throughput,
          'higher',
          `${THROUGHPUT_NOTE}, ${reps}`,
        ),
        {
          name: 'relay CPU per GiB forwarded',
          unit: 'ms',
          better: 'lower',
          pairctl: median(relayCpu),
          anchors: {},
          note: `user + system CPU of the relay process over a whole relayed transfer, per GiB, ${reps}`,
        },
        relayedVsDirect(
          'connect latency relayed, median',
          'ms',
          connect,
          'lower',
          `${LATENCY_NOTE}; median of ${connects} connections per run, ${reps}`,
        ),
        relayedVsDirect(
          'connect latency relayed, p90',
          'ms',
          connectP90,
          'lower',
          `as above, 90th percentile, ${reps}`,
        ),
        {
          name: `relay RSS per idle circuit (${circuits} open)`,
          unit: 'bytes',
          better: 'lower',
          pairctl: idle.rss,
          anchors: {},
          note: memory,
        },
        {
          name: `relay heap per idle circuit (${circuits} open)`,
          unit: 'bytes',
          better: 'lower',
          pairctl: idle.heap,
          anchors: {},
          note: 'as above, V8 heap used',
        },
      ]
    } finally {
      for (const process of [receiver, sender, relay]) {
        if (process.connected) process.send({ type: 'stop' })
        process.kill()
      }
    }
  },
}

export default benchmark
