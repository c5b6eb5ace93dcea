import t from 'tap'
import { judgeProcess, type SoakSample } from '../../scripts/soak-judge.js'

const MiB = 1024 * 1024

/** `count` samples 10 s apart from t = 0, at rest except for what `change(i)` sets. */
function samples(count: number, change: (i: number) => Partial<SoakSample> = () => ({})): SoakSample[] {
  return Array.from({ length: count }, (_, i) => ({
    t: i * 10,
    ops: i * 20,
    heapUsed: 20 * MiB,
    rss: 150 * MiB,
    fds: 30,
    timers: 2,
    handles: 4,
    ...change(i),
  }))
}

function failing(verdict: ReturnType<typeof judgeProcess>): string[] {
  return verdict.figures.filter((figure) => !figure.ok).map((figure) => figure.figure)
}

t.test('a process at rest passes every figure', async (t) => {
  const verdict = judgeProcess('A', samples(12), 30)
  t.equal(verdict.judged, true)
  t.same(failing(verdict), [])
  t.equal(verdict.figures.length, 5)
})

t.test('heap growing 2 MiB a sample after the warm-up fails the heap figure alone', async (t) => {
  const verdict = judgeProcess(
    'A',
    samples(12, (i) => ({ heapUsed: 20 * MiB + i * 2 * MiB })),
    30,
  )
  t.same(failing(verdict), ['heapUsed'])
  const heap = verdict.figures.find((figure) => figure.figure === 'heapUsed')!
  // warm-up level: median of samples 3..5; final: median of samples 9..11
  t.equal(heap.final - heap.warm, 6 * 2 * MiB)
  t.ok(Math.abs(heap.perMinute - 12 * MiB) < 1, `slope ${heap.perMinute} B/min is 12 MiB a minute`)
})

t.test('growth during the warm-up is not judged', async (t) => {
  const verdict = judgeProcess(
    'A',
    samples(12, (i) => ({ fds: i < 3 ? 10 + i * 10 : 40 })),
    30,
  )
  t.same(failing(verdict), [])
})

t.test('timers and handles are held to ±8 both ways, fds too', async (t) => {
  const grown = judgeProcess(
    'A',
    samples(12, (i) => ({ timers: i >= 9 ? 11 : 2 })),
    30,
  )
  t.same(failing(grown), ['timers'])
  const shrunk = judgeProcess(
    'A',
    samples(12, (i) => ({ fds: i >= 9 ? 21 : 30, handles: i >= 9 ? 0 : 4 })),
    30,
  )
  t.same(failing(shrunk), ['fds'])
  const nine = judgeProcess(
    'A',
    samples(12, (i) => ({ handles: i >= 9 ? 13 : 4 })),
    30,
  )
  t.same(failing(nine), ['handles'])
})

t.test('one sample caught mid-operation does not decide a level', async (t) => {
  const verdict = judgeProcess(
    'A',
    samples(12, (i) => (i === 11 ? { fds: 60, heapUsed: 60 * MiB } : {})),
    30,
  )
  t.same(failing(verdict), [])
})

t.test('fewer than six samples after the warm-up cannot be judged', async (t) => {
  t.equal(judgeProcess('A', samples(8), 30).judged, false)
  t.equal(judgeProcess('A', samples(9), 30).judged, true)
})
