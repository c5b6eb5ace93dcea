/**
 * Pairing across two NATs in the namespace lab (`test/lab/lab.sh`, needs root) with 20 % loss on both
 * routers, each way: 20 pairings (quick: 2) for each of two shapes, the README's commands against two
 * running daemons (`pairctl start`, then `generate` on alice and `join CODE` on bob):
 * - mapped: rtrA offers UPnP / NAT-PMP / PCP, alice maps her port;
 * - hole punch: no mapping anywhere, both behind port-preserving cone NATs.
 * Reported per shape: successes, median and p90 pairing time, and time to first byte (the secured
 * connection, `peer-connected`) per path type. Times run from the join's first step (`searching`), so the
 * CLI's own start-up is left out. Targets (issue 13): >= 19/20 succeed, median <= 5 s, p90 <= 10 s.
 * Anchor: the same pairing with no loss, a few times, in the same run.
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { jsonLines, runCli, startCli } from '../../test/cli/helpers/cli.js'
import { Lab, labPrefix, labUnavailable } from '../../test/lab/helpers/lab.js'
import { startBootstrap, type Teardown } from '../../test/lab/helpers/pairing.js'
import { type Benchmark, type Metric, median, nowMs, quantile } from '../harness.js'

const LOSS_PERCENT = 20
const ANCHOR = 'same pairing, no loss'

interface Shape {
  name: 'mapped' | 'holepunch'
  upnp: 'on' | 'off'
}

const SHAPES: Shape[] = [
  { name: 'mapped', upnp: 'on' },
  { name: 'holepunch', upnp: 'off' },
]

/** One pairing's outcome, times from the join's `searching` step. */
interface Outcome {
  ok: boolean
  totalMs: number
  firstByteMs: number | null
  path: string | null
  error?: string
}

/** Processes started for one shape, killed when it is done. */
class Processes implements Teardown {
  readonly #cleanups: Array<() => void> = []
  teardown(fn: () => void): void {
    this.#cleanups.push(fn)
  }
  stop(): void {
    for (const fn of this.#cleanups.splice(0)) fn()
  }
}

/** One pairing; a step that fails (e.g. `generate` reporting `NODE_NO_PEERS`) is a failed pairing. */
async function pairOnce(home: string): Promise<Outcome> {
  const processes = new Processes()
  const started = nowMs()
  try {
    const generate = startCli(processes, home, ['--instance', 'alice', 'generate', '--json'])
    const { code } = await generate.waitFor((record) => record.type === 'code', 90_000)
    const joined = startCli(processes, home, ['--instance', 'bob', 'join', String(code), '--json'])
    const searching = await joined.waitFor((record) => record.type === 'searching', 60_000)
    const searchingAt = nowMs()
    let firstByteMs: number | null = null
    let path: string | null = null
    joined
      .waitFor((record) => record.type === 'peer-connected', 120_000)
      .then((record) => {
        firstByteMs = nowMs() - searchingAt
        path = String(record.path)
      })
      .catch(() => {})
    void searching
    const result = await joined.exited
    const totalMs = nowMs() - searchingAt
    await generate.exited
    const last = jsonLines(result.stdout).at(-1)
    return {
      ok: result.code === 0,
      totalMs,
      firstByteMs,
      path,
      ...(result.code === 0 ? {} : { error: `${last?.code}: ${last?.message}` }),
    }
  } catch (err) {
    const error = (err as Error).message.slice(0, 300)
    return { ok: false, totalMs: nowMs() - started, firstByteMs: null, path: null, error }
  } finally {
    processes.stop()
  }
}

async function runShape(lab: Lab, shape: Shape, port: number, count: number, anchorCount: number) {
  lab.script(['upnp', shape.upnp])
  lab.script(['loss', '0'])
  const home = await mkdtemp(join(tmpdir(), 'pairctl-bench-lab-'))
  const processes = new Processes()
  try {
    const network = await startBootstrap(processes, lab, home, port)
    const daemon = (name: string, node: string, flags: string[]) =>
      startCli(
        processes,
        home,
        ['--instance', name, 'start', '--foreground', '--name', name, ...flags, ...network, '--json'],
        {},
        lab.ns(node),
      )
    const daemons = [daemon('alice', 'hostA', []), daemon('bob', 'hostB', [])]
    for (const started of daemons) await started.waitFor((record) => record.type === 'started', 60_000)
    const anchor: Outcome[] = []
    for (let i = 0; i < anchorCount; i++) anchor.push(await pairOnce(home))
    lab.script(['loss', String(LOSS_PERCENT)])
    const lossy: Outcome[] = []
    for (let i = 0; i < count; i++) {
      const outcome = await pairOnce(home)
      lossy.push(outcome)
      console.log(
        `  ${shape.name} #${i + 1}: ${outcome.ok ? 'ok' : `failed (${outcome.error})`} ${Math.round(outcome.totalMs)} ms, first byte ${outcome.firstByteMs === null ? '-' : Math.round(outcome.firstByteMs)} ms via ${outcome.path ?? '-'}`,
      )
    }
    lab.script(['loss', '0'])
    for (const name of ['alice', 'bob']) await runCli(home, ['--instance', name, 'stop'])
    return { anchor, lossy }
  } finally {
    processes.stop()
    await rm(home, { recursive: true, force: true })
  }
}

function metrics(shape: Shape, anchor: Outcome[], lossy: Outcome[]): Metric[] {
  const ok = lossy.filter((o) => o.ok)
  const anchorOk = anchor.filter((o) => o.ok)
  const note = `${lossy.length} pairings with ${LOSS_PERCENT} % loss on both routers each way; anchor ${anchorOk.length}/${anchor.length} without loss`
  const result: Metric[] = [
    {
      name: `${shape.name}: pairings that succeed`,
      unit: `of ${lossy.length}`,
      better: 'higher',
      pairctl: ok.length,
      anchors: { [ANCHOR]: anchorOk.length * (lossy.length / Math.max(1, anchor.length)) },
      note,
    },
    {
      name: `${shape.name}: pairing time median`,
      unit: 'ms',
      better: 'lower',
      pairctl: median(ok.map((o) => o.totalMs)),
      anchors: { [ANCHOR]: median(anchorOk.map((o) => o.totalMs)) },
      note,
    },
    {
      name: `${shape.name}: pairing time p90`,
      unit: 'ms',
      better: 'lower',
      pairctl: quantile(
        ok.map((o) => o.totalMs),
        0.9,
      ),
      anchors: {
        [ANCHOR]: quantile(
          anchorOk.map((o) => o.totalMs),
          0.9,
        ),
      },
      note,
    },
  ]
  const paths = new Set(ok.map((o) => o.path ?? 'unknown'))
  for (const path of paths) {
    const via = ok.filter((o) => o.path === path && o.firstByteMs !== null)
    const anchorVia = anchorOk.filter((o) => o.path === path && o.firstByteMs !== null)
    result.push({
      name: `${shape.name}: time to first byte via ${path} median`,
      unit: 'ms',
      better: 'lower',
      pairctl: median(via.map((o) => o.firstByteMs!)),
      anchors: { [ANCHOR]: median(anchorVia.map((o) => o.firstByteMs!)) },
      note: `${via.length} of the successful pairings went via ${path}`,
    })
  }
  return result
}

const benchmark: Benchmark = {
  name: 'lab',
  async run({ quick }) {
    const unavailable = labUnavailable()
    if (unavailable) throw new Error(`bench/lab: ${unavailable}`)
    const lab = new Lab(labPrefix('bench'))
    lab.up()
    try {
      const result: Metric[] = []
      let port = 4000
      for (const shape of SHAPES) {
        const { anchor, lossy } = await runShape(lab, shape, port, quick ? 2 : 20, quick ? 1 : 3)
        port += 100
        result.push(...metrics(shape, anchor, lossy))
      }
      return result
    } finally {
      lab.down()
    }
  },
}

export default benchmark
