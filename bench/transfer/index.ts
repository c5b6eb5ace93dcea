/**
 * `bench/transfer`: one file between two pairctl daemons on loopback (separate processes, paired through
 * a DHT bootstrap node on loopback), sent with `transfers.send` as `pairctl send --file` does; the receiver
 * writes it to disk, verifies every chunk and places it. In the same run: the same file copied over a raw
 * TCP socket to disk in two other processes, and the pairctl channel alone (bench/channel's workers,
 * memory to memory), as anchors.
 */
import { type ChildProcess, fork } from 'node:child_process'
import { createHash, randomBytes } from 'node:crypto'
import { createReadStream } from 'node:fs'
import { open, rm } from 'node:fs/promises'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { TransferInfo } from '../../lib/control/protocol.js'
import { FINAL_STATES } from '../../lib/transfer/index.js'
import { instanceDir, pairedDaemons, transferEvent } from '../../test/transfer/helpers/daemons.js'
import type { Job as ChannelJob } from '../channel/worker.js'
import { type Benchmark, type Metric, median, nowMs } from '../harness.js'
import type { Job } from './worker.js'

const here = dirname(fileURLToPath(import.meta.url))
const root = join(here, '..', '..')
const MiB = 1024 * 1024
const RAW_TCP = 'raw TCP copy to disk'
const CHANNEL = 'pairctl channel alone, memory to memory'
const NOTE =
  'loopback; pairctl: two daemons (separate processes), transfers.send of one file, timed until the ' +
  "receiver's daemon reports it done (every chunk hashed and checked, written, fdatasynced and linked " +
  'to its name); raw TCP: the file piped over a socket to a file in another process, timed from the ' +
  'first byte until fsync returned; channel: bench/channel workers, the same byte count'

function fork_(script: string): ChildProcess {
  return fork(script, [], { cwd: root, execArgv: ['--import', 'tsx'] })
}

function nextMessage<T>(child: ChildProcess): Promise<T> {
  return new Promise((resolve, reject) => {
    const onExit = (code: number | null) => reject(new Error(`bench worker exited with ${code}`))
    child.once('exit', onExit)
    child.once('message', (message) => {
      child.off('exit', onExit)
      resolve(message as T)
    })
  })
}

/** `bytes` of random data at `path`, written 16 MiB at a time. */
async function randomFile(path: string, bytes: number): Promise<void> {
  const handle = await open(path, 'w')
  try {
    for (let at = 0; at < bytes; at += 16 * MiB)
      await handle.write(randomBytes(Math.min(16 * MiB, bytes - at)), 0, undefined, at)
  } finally {
    await handle.close()
  }
}

async function sha256Of(path: string): Promise<string> {
  const hash = createHash('sha256')
  for await (const piece of createReadStream(path)) hash.update(piece as Buffer)
  return hash.digest('hex')
}

/** Milliseconds of one raw TCP copy of `source` to `target`, measured by the receiving process. */
async function rawCopy(source: string, target: string, sink: ChildProcess, sender: ChildProcess) {
  const listening = nextMessage<{ port: number }>(sink)
  sink.send({ type: 'file-sink', path: target } satisfies Job)
  const { port } = await listening
  const received = nextMessage<{ ms: number }>(sink)
  const sent = nextMessage<unknown>(sender)
  sender.send({ type: 'file-source', path: source, port } satisfies Job)
  const [{ ms }] = await Promise.all([received, sent])
  await rm(target)
  return ms
}

/** Milliseconds of `bytes` over the pairctl channel alone, between bench/channel's workers. */
async function channelOnly(bytes: number, sink: ChildProcess, sender: ChildProcess) {
  const tls = { key: '', cert: '' }
  const listening = nextMessage<{ port: number }>(sink)
  sink.send({ type: 'sink', kind: 'pairctl', bytes, tls } satisfies ChannelJob)
  const { port } = await listening
  const received = nextMessage<{ ms: number }>(sink)
  const sent = nextMessage<unknown>(sender)
  sender.send({ type: 'source', kind: 'pairctl', bytes, port, tls } satisfies ChannelJob)
  const [{ ms }] = await Promise.all([received, sent])
  return ms
}

const benchmark: Benchmark = {
  name: 'transfer',
  async run({ quick }) {
    const bytes = quick ? 8 * MiB : 1024 * MiB
    const repetitions = quick ? 1 : 3
    const teardowns: (() => unknown)[] = []
    const workers = [
      fork_(join(here, 'worker.ts')),
      fork_(join(here, 'worker.ts')),
      fork_(join(here, '..', 'channel', 'worker.ts')),
      fork_(join(here, '..', 'channel', 'worker.ts')),
    ]
    try {
      const daemons = await pairedDaemons({ teardown: (fn: () => unknown) => void teardowns.push(fn) })
      const source = join(daemons.home, 'f.bin')
      await randomFile(source, bytes)
      const expected = await sha256Of(source)
      const downloads = join(instanceDir(daemons.home, 'bob'), 'downloads')
      const alice = await daemons.connect('alice')
      const bob = await daemons.connect('bob')
      const endToEnd: number[] = []
      const afterOffer: number[] = []
      const raw: number[] = []
      const channel: number[] = []
      for (let rep = 0; rep < repetitions; rep++) {
        const start = nowMs()
        const { transfer } = await alice.request('transfers.send', { device: 'bob', files: [source] })
        const offered = nowMs()
        const end = await transferEvent(
          bob,
          (info: TransferInfo) => info.id === transfer.id && FINAL_STATES.includes(info.state),
        )
        const done = nowMs()
        if (end.state !== 'done') throw new Error(`the transfer ended ${end.state}: ${end.error?.message}`)
        const received = join(downloads, 'f.bin')
        if (rep === 0 && (await sha256Of(received)) !== expected)
          throw new Error('the received file differs from the one sent')
        await rm(received)
        endToEnd.push(bytes / MiB / ((done - start) / 1000))
        afterOffer.push(bytes / MiB / ((done - offered) / 1000))
        const rawMs = await rawCopy(source, join(daemons.home, 'raw-copy.bin'), workers[0]!, workers[1]!)
        raw.push(bytes / MiB / (rawMs / 1000))
        channel.push(bytes / MiB / ((await channelOnly(bytes, workers[2]!, workers[3]!)) / 1000))
      }
      const size = quick ? '8 MiB' : '1 GiB'
      const reps = `median of ${repetitions}`
      const metric = (name: string, values: number[], anchors: Record<string, number>, note: string) =>
        ({ name, unit: 'MiB/s', better: 'higher', pairctl: median(values), anchors, note }) satisfies Metric
      return [
        metric(
          `file ${size} end to end`,
          endToEnd,
          { [RAW_TCP]: median(raw) },
          `${NOTE}; from the request, so including the sender hashing the file before it offers it; ${reps}`,
        ),
        metric(
          `file ${size} after the offer`,
          afterOffer,
          { [RAW_TCP]: median(raw), [CHANNEL]: median(channel) },
          `as above, from the moment the request returned (file hashed, offer persisted); ${reps}`,
        ),
      ]
    } finally {
      for (const fn of teardowns.reverse()) await fn()
      for (const child of workers) {
        child.send({ type: 'stop' })
        child.kill()
      }
    }
  },
}

export default benchmark
