/**
 * `npm run soak`: pairctl under sustained use on loopback, watched for leaks (issue #17 item 5).
 *
 * Seven long-lived processes (scripts/soak-worker.ts), each bound to 127.0.0.1 only, with LAN discovery
 * and port mapping off: a bootstrap node; four device nodes A–D; a device node E, paired with A once,
 * which its process stops and starts again every fourth round; and a process whose plain DHT nodes
 * (server mode) join every round and leave once more than four run. Each round pairs the four devices
 * two by two with fresh codes (the partners rotate, so every pair meets again only after it unpaired),
 * waits for both links, sends two acknowledged messages each way and checks they arrived, sends a
 * 16 KiB file each way (every third round also a 4 MiB one) and checks each received file's SHA-256,
 * then unpairs and waits until the partner has removed the pairing too. Every `--interval` seconds,
 * between rounds (so no operation is in flight), each process reports heap used after a full GC, RSS,
 * `/proc/self/fd` entries and `process.getActiveResourcesInfo()` by type; the samples are printed as
 * they come.
 *
 * Verdict (exit 1 if any fails), after a warm-up of a third of the run (at most 120 s): per process, the
 * final level (median of the last three samples) minus the warm-up level (median of the first three
 * samples after the warm-up) stays within {@link GROWTH_BOUNDS}: heap < 10 MiB, RSS < 48 MiB, fds,
 * timers and other handles within ±8; and no operation failed. No failure is tolerated: on loopback,
 * with every wait bounded and every step awaited, none of these operations has a legitimate reason to
 * fail, so each one printed is a bug or an overloaded machine.
 *
 * `npm run soak` runs 10 minutes; `-- --duration SECONDS`, `--quick` (60 s, CI) and `--interval SECONDS`
 * (default 10; 5 with `--quick`) change that.
 */
import type { ChildProcess } from 'node:child_process'
import { createHash, randomBytes } from 'node:crypto'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { forkWorker } from '../bench/harness.js'
import { GROWTH_BOUNDS, judgeProcess, type ProcessVerdict, type SoakSample } from './soak-judge.js'
import type { ProcessSample, SoakJobs, SoakJobType, SoakReply } from './soak-worker.js'

const here = dirname(fileURLToPath(import.meta.url))
const KiB = 1024
const MiB = 1024 * KiB
/** Longest any one job may take before it counts as failed (a 4 MiB transfer takes well under 5 s). */
const JOB_TIMEOUT_MS = 90_000
/** Plain DHT nodes kept running by the churn process: one joins each round, the oldest leaves beyond this. */
const DHT_CHURN_NODES = 4
/** E is stopped and started again every this many rounds. */
const RESTART_EVERY = 4
/** A 4 MiB file goes one way every this many rounds. */
const LARGE_FILE_EVERY = 3

class SoakError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message)
    this.name = 'SoakError'
  }
}

/** One forked worker, answering jobs by id. */
class SoakProcess {
  readonly samples: SoakSample[] = []
  private readonly child: ChildProcess
  private readonly pending = new Map<number, { resolve(reply: SoakReply): void; reject(err: Error): void }>()
  private nextId = 1
  deviceId = ''

  constructor(readonly name: string) {
    this.child = forkWorker(join(here, 'soak-worker.ts'), ['--expose-gc'])
    this.child.on('message', (reply: SoakReply) => {
      this.pending.get(reply.id)?.resolve(reply)
      this.pending.delete(reply.id)
    })
    this.child.on('exit', (code) => {
      for (const { reject } of this.pending.values())
        reject(new SoakError('EXITED', `${name} exited (${code})`))
      this.pending.clear()
    })
  }

  /** Runs `type` in the worker; rejects with the worker's error code, or on timeout or exit. */
  async call<K extends SoakJobType>(type: K, job: SoakJobs[K]['job']): Promise<SoakJobs[K]['result']> {
    const id = this.nextId++
    const reply = new Promise<SoakReply>((resolve, reject) => {
      this.pending.set(id, { resolve, reject })
      setTimeout(
        () => reject(new SoakError('TIMEOUT', `${this.name} ${type}: no answer in ${JOB_TIMEOUT_MS} ms`)),
        JOB_TIMEOUT_MS,
      ).unref()
    })
    this.child.send({ id, type, ...job })
    const answer = await reply
    if (!answer.ok) throw new SoakError(answer.code, `${this.name} ${type}: ${answer.message}`)
    return answer.result as SoakJobs[K]['result']
  }

  /** Asks the worker to close everything and exit; kills it if it has not within 10 s. */
  async exit(): Promise<void> {
    if (this.child.exitCode !== null) return
    const exited = new Promise((resolve) => this.child.once('exit', resolve))
    await this.call('exit', {}).catch(() => undefined)
    const killer = setTimeout(() => this.child.kill(), 10_000)
    await exited
    clearTimeout(killer)
  }
}

/** Operations done and failed, by kind, and the first failures' messages. */
class Ledger {
  readonly done = new Map<string, number>()
  readonly failed = new Map<string, number>()
  readonly failures: string[] = []

  get total(): number {
    return [...this.done.values()].reduce((a, b) => a + b, 0)
  }

  get failedTotal(): number {
    return [...this.failed.values()].reduce((a, b) => a + b, 0)
  }

  /** Runs one operation, counting it done or failed; a failure is rethrown so its round stops. */
  async op<T>(kind: string, body: () => Promise<T>): Promise<T> {
    try {
      const result = await body()
      this.done.set(kind, (this.done.get(kind) ?? 0) + 1)
      return result
    } catch (err) {
      this.failed.set(kind, (this.failed.get(kind) ?? 0) + 1)
      const message = `${kind}: ${err instanceof Error ? err.message : String(err)}`
      if (this.failures.length < 20) this.failures.push(message)
      console.log(`  FAILED ${message}`)
      throw err
    }
  }
}

interface SourceFile {
  path: string
  name: string
  sha256: string
}

async function sourceFile(dir: string, name: string, bytes: number): Promise<SourceFile> {
  const data = randomBytes(bytes)
  const path = join(dir, name)
  await writeFile(path, data)
  return { path, name, sha256: createHash('sha256').update(data).digest('hex') }
}

function options() {
  const { values } = parseArgs({
    options: {
      duration: { type: 'string' },
      interval: { type: 'string' },
      quick: { type: 'boolean', default: false },
    },
  })
  const durationS = Number(values.duration ?? (values.quick ? 60 : 600))
  const intervalS = Number(values.interval ?? (values.quick ? 5 : 10))
  if (!(durationS > 0) || !(intervalS > 0)) throw new Error('--duration and --interval take positive seconds')
  return { durationS, intervalS, warmupS: Math.min(120, durationS / 3) }
}

/** The partners of round `round`: the three ways to split A–D in two pairs, in turn. */
function partners(round: number, [a, b, c, d]: SoakProcess[]): [SoakProcess, SoakProcess][] {
  const splits: [SoakProcess, SoakProcess][][] = [
    [
      [a!, b!],
      [c!, d!],
    ],
    [
      [a!, c!],
      [b!, d!],
    ],
    [
      [a!, d!],
      [b!, c!],
    ],
  ]
  return splits[round % splits.length]!
}

/** `from` sends two messages to `to`, which must have received exactly those, in order. */
async function messages(ledger: Ledger, from: SoakProcess, to: SoakProcess, round: number): Promise<void> {
  const texts = [1, 2].map((i) => `round ${round} ${from.name}→${to.name} #${i}`)
  for (const text of texts)
    await ledger.op('message', () => from.call('send-message', { deviceId: to.deviceId, text }))
  const { texts: received } = await to.call('take-messages', { deviceId: from.deviceId })
  if (received.join('\n') !== texts.join('\n'))
    await ledger.op('message-check', async () => {
      throw new SoakError(
        'MISMATCH',
        `${to.name} got ${JSON.stringify(received)}, sent ${JSON.stringify(texts)}`,
      )
    })
}

/** `from` sends `file` to `to`, which must have it with the same SHA-256. */
async function transfer(ledger: Ledger, kind: string, from: SoakProcess, to: SoakProcess, file: SourceFile) {
  await ledger.op(kind, async () => {
    try {
      const { state } = await from.call('send-file', { deviceId: to.deviceId, path: file.path })
      if (state !== 'done') throw new SoakError('TRANSFER', `${from.name}→${to.name} ended ${state}`)
    } catch (err) {
      const [sender, receiver] = await Promise.all([
        from.call('transfer-states', { deviceId: to.deviceId }),
        to.call('transfer-states', { deviceId: from.deviceId }),
      ])
      const views = `sender ${JSON.stringify(sender)}, receiver ${JSON.stringify(receiver)}`
      throw new SoakError('TRANSFER', `${err instanceof Error ? err.message : String(err)}; ${views}`)
    }
    await to.call('take-file', { name: file.name, sha256: file.sha256 })
  })
}

/** Pairs `x` (generates) and `y` (joins) with a fresh code. */
async function pair(ledger: Ledger, x: SoakProcess, y: SoakProcess): Promise<void> {
  await ledger.op('pair', async () => {
    const { code } = await x.call('generate', {})
    const [generated, joined] = await Promise.all([
      x.call('await-paired', { code }),
      y.call('join', { code }),
    ])
    if (generated.deviceId !== y.deviceId || joined.deviceId !== x.deviceId)
      throw new SoakError('MISMATCH', `${x.name} and ${y.name} paired with the wrong devices`)
  })
  await ledger.op('link', () =>
    Promise.all([x.call('online', { deviceId: y.deviceId }), y.call('online', { deviceId: x.deviceId })]),
  )
}

/** One pair's round: pair, link, messages, files, unpair. A failure ends it; the pairing is then dropped. */
async function pairRound(ledger: Ledger, x: SoakProcess, y: SoakProcess, round: number, files: SourceFile[]) {
  const [small, large] = files
  try {
    await pair(ledger, x, y)
    await messages(ledger, x, y, round)
    await messages(ledger, y, x, round)
    await Promise.all([
      transfer(ledger, 'file-16KiB', x, y, small!),
      transfer(ledger, 'file-16KiB', y, x, small!),
    ])
    if (round % LARGE_FILE_EVERY === 0) await transfer(ledger, 'file-4MiB', x, y, large!)
    await ledger.op('unpair', async () => {
      await x.call('unpair', { deviceId: y.deviceId })
      await y.call('forgotten', { deviceId: x.deviceId })
    })
  } catch {
    // Counted already; leave both sides unpaired so that the next rounds start clean.
    await x.call('unpair', { deviceId: y.deviceId }).catch(() => undefined)
    await y.call('unpair', { deviceId: x.deviceId }).catch(() => undefined)
  }
}

/** What the churn of each round acts on. */
interface Churn {
  dht: SoakProcess
  /** E's one partner. */
  a: SoakProcess
  e: SoakProcess
  bootstrap: string[]
  /** Starts E's node (again). */
  start(): Promise<void>
}

/** The churn of one round: a plain DHT node joins (the oldest leaves); every fourth round E restarts. */
async function churnRound(ledger: Ledger, round: number, { dht, a, e, bootstrap, start }: Churn) {
  try {
    const { nodes } = await ledger.op('dht-join', () => dht.call('dht-join', { bootstrap }))
    if (nodes > DHT_CHURN_NODES) await ledger.op('dht-leave', () => dht.call('dht-leave', {}))
    if (round % RESTART_EVERY !== RESTART_EVERY - 1) return
    await ledger.op('restart', async () => {
      await e.call('stop-node', {})
      await start()
      await Promise.all([
        a.call('online', { deviceId: e.deviceId }),
        e.call('online', { deviceId: a.deviceId }),
      ])
    })
    await messages(ledger, e, a, round)
  } catch {
    // Counted already.
  }
}

function mib(bytes: number): string {
  return (bytes / MiB).toFixed(1)
}

function printSampleHeader(): void {
  console.log(
    ['t s', 'process', 'heap MiB', 'rss MiB', 'fds', 'timers', 'handles', 'ops', 'failed']
      .map((h) => h.padStart(9))
      .join(''),
  )
}

function toSample(t: number, ops: number, raw: ProcessSample): SoakSample {
  const timers = raw.resources.Timeout ?? 0
  const all = Object.values(raw.resources).reduce((a, b) => a + b, 0)
  return { t, ops, heapUsed: raw.heapUsed, rss: raw.rss, fds: raw.fds, timers, handles: all - timers }
}

async function sampleAll(processes: SoakProcess[], ledger: Ledger, t: number): Promise<void> {
  const raws = await Promise.all(processes.map((p) => p.call('sample', {})))
  processes.forEach((p, i) => {
    const sample = toSample(t, ledger.total, raws[i]!)
    p.samples.push(sample)
    const cells = [
      t.toFixed(0),
      p.name,
      mib(sample.heapUsed),
      mib(sample.rss),
      String(sample.fds),
      String(sample.timers),
      String(sample.handles),
      String(ledger.total),
      String(ledger.failedTotal),
    ]
    console.log(cells.map((c) => c.padStart(10)).join(''))
  })
}

function printVerdicts(verdicts: ProcessVerdict[]): boolean {
  let ok = true
  console.log('\nGrowth after the warm-up (final level − warm-up level; bounds:', boundsText(), ')')
  console.log(
    ['process', 'figure', 'warm-up', 'final', 'change', 'per min', 'verdict']
      .map((h) => h.padStart(11))
      .join(''),
  )
  for (const verdict of verdicts) {
    if (!verdict.judged) {
      console.log(`${verdict.process.padStart(11)}  too few samples after the warm-up to judge: FAIL`)
      ok = false
      continue
    }
    for (const figure of verdict.figures) {
      const bound = GROWTH_BOUNDS.find((b) => b.figure === figure.figure)!
      const show = (value: number) => (bound.unit === 'bytes' ? `${mib(value)}M` : value.toFixed(1))
      ok &&= figure.ok
      console.log(
        [
          verdict.process,
          figure.figure,
          show(figure.warm),
          show(figure.final),
          show(figure.final - figure.warm),
          show(figure.perMinute),
          figure.ok ? 'ok' : 'FAIL',
        ]
          .map((c) => c.padStart(11))
          .join(''),
      )
    }
  }
  return ok
}

function boundsText(): string {
  return GROWTH_BOUNDS.map((b) => {
    const up = b.unit === 'bytes' ? `${mib(b.maxGrowth)} MiB` : String(b.maxGrowth)
    const down = Number.isFinite(b.maxShrink) ? `, −${b.maxShrink}` : ''
    return `${b.figure} +${up}${down}`
  }).join('; ')
}

async function main(): Promise<number> {
  const { durationS, intervalS, warmupS } = options()
  const dir = await mkdtemp(join(tmpdir(), 'pairctl-soak-'))
  const files = [await sourceFile(dir, 'small.bin', 16 * KiB), await sourceFile(dir, 'large.bin', 4 * MiB)]
  const bootstrapProcess = new SoakProcess('bootstrap')
  const dht = new SoakProcess('dht-churn')
  const devices = ['A', 'B', 'C', 'D'].map((name) => new SoakProcess(name))
  const e = new SoakProcess('E')
  const processes = [bootstrapProcess, dht, ...devices, e]
  const ledger = new Ledger()
  try {
    const { port } = await bootstrapProcess.call('start-bootstrap', {})
    const bootstrap = [`127.0.0.1:${port}`]
    const start = async (p: SoakProcess) => {
      p.deviceId = (await p.call('start-node', { dir: join(dir, p.name), name: p.name, bootstrap })).deviceId
    }
    await Promise.all([...devices, e].map(start))
    const churn: Churn = { dht, a: devices[0]!, e, bootstrap, start: () => start(e) }
    await pair(ledger, churn.a, e)
    console.log(
      `soak: ${durationS} s on 127.0.0.1, samples every ${intervalS} s between rounds, warm-up ${warmupS} s`,
    )
    console.log(`bounds: ${boundsText()}; failed operations: 0\n`)
    printSampleHeader()
    const began = Date.now()
    const elapsed = () => (Date.now() - began) / 1000
    await sampleAll(processes, ledger, 0)
    let nextSample = intervalS
    let round = 0
    while (elapsed() < durationS) {
      await Promise.all([
        ...partners(round, devices).map(([x, y]) => pairRound(ledger, x, y, round, files)),
        churnRound(ledger, round, churn),
      ])
      round++
      if (elapsed() >= nextSample) {
        await sampleAll(processes, ledger, elapsed())
        while (nextSample <= elapsed()) nextSample += intervalS
      }
    }
    await sampleAll(processes, ledger, elapsed())
    console.log(`\n${round} rounds in ${elapsed().toFixed(0)} s; operations done / failed:`)
    for (const kind of new Set([...ledger.done.keys(), ...ledger.failed.keys()]))
      console.log(
        `  ${kind.padEnd(14)} ${String(ledger.done.get(kind) ?? 0).padStart(6)} ${String(ledger.failed.get(kind) ?? 0).padStart(6)}`,
      )
    for (const failure of ledger.failures) console.log(`  failure: ${failure}`)
    const grown = printVerdicts(processes.map((p) => judgeProcess(p.name, p.samples, warmupS)))
    const ok = grown && ledger.failedTotal === 0
    console.log(`\nsoak: ${ok ? 'PASS' : 'FAIL'} (${ledger.total} operations, ${ledger.failedTotal} failed)`)
    return ok ? 0 : 1
  } finally {
    await Promise.all(processes.map((p) => p.exit()))
    await rm(dir, { recursive: true, force: true })
  }
}

process.exitCode = await main()
