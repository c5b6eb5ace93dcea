/**
 * `npm run bench [-- --quick] [-- --only NAME]`: runs every benchmark in `bench/<name>/index.ts` and
 * writes `bench/RESULTS.md` and `bench/results.json` (the latter only for full-size runs, so a quick CI
 * run never overwrites the recorded figures).
 */
import { readdirSync, statSync, writeFileSync } from 'node:fs'
import { cpus, totalmem } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { parseArgs } from 'node:util'
import { type Benchmark, type Metric, ratio } from './harness.js'

const here = dirname(fileURLToPath(import.meta.url))
const { values } = parseArgs({
  options: { quick: { type: 'boolean', default: false }, only: { type: 'string' } },
})
const quick = values.quick ?? false

const names = readdirSync(here)
  .filter((name) => statSync(join(here, name)).isDirectory() && !name.startsWith('.'))
  .filter((name) => values.only === undefined || name === values.only)
  .sort()
if (names.length === 0) {
  console.error(`no benchmark named ${values.only ?? ''}; have: ${readdirSync(here).join(', ')}`)
  process.exit(2)
}

const results: { benchmark: string; metrics: Metric[] }[] = []
let failed = false
for (const name of names) {
  const module = (await import(pathToFileURL(join(here, name, 'index.ts')).href)) as { default: Benchmark }
  console.log(`\n## ${name}${quick ? ' (quick)' : ''}`)
  try {
    const metrics = await module.default.run({ quick })
    for (const metric of metrics) console.log(formatLine(metric))
    results.push({ benchmark: name, metrics })
  } catch (err) {
    failed = true
    console.error(`benchmark ${name} failed:`, err)
  }
}

if (!quick && !failed) writeReports()
process.exit(failed ? 1 : 0)

function formatLine(metric: Metric): string {
  const anchors = Object.entries(metric.anchors)
    .map(([anchor, value]) => `${anchor} ${round(value)} (${round(ratio(metric, anchor))}×)`)
    .join(', ')
  return `${metric.name}: pairctl ${round(metric.pairctl)} ${metric.unit}${anchors ? `; ${anchors}` : ''}`
}

function round(value: number): string {
  if (!Number.isFinite(value)) return 'n/a'
  return Math.abs(value) >= 100 ? value.toFixed(0) : value.toPrecision(3)
}

function writeReports(): void {
  const machine = `${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.version}`
  const date = new Date().toISOString()
  const json = results.flatMap(({ benchmark, metrics }) =>
    metrics.map((m) => ({
      benchmark,
      name: m.name,
      unit: m.unit,
      better: m.better,
      pairctl: m.pairctl,
      anchors: m.anchors,
      ratios: Object.fromEntries(Object.keys(m.anchors).map((a) => [a, ratio(m, a)])),
      note: m.note,
    })),
  )
  const partial = values.only !== undefined
  writeFileSync(
    join(here, partial ? `results.${values.only}.json` : 'results.json'),
    `${JSON.stringify({ machine, date, results: json }, null, 2)}\n`,
  )
  const lines = [
    `# Benchmark results`,
    '',
    `Machine: ${machine}. Date: ${date}.`,
    '',
    'Ratio > 1 means pairctl is better (faster, smaller), whatever the unit.',
    '',
  ]
  for (const { benchmark, metrics } of results) {
    lines.push(
      `## ${benchmark}`,
      '',
      '| metric | unit | pairctl | anchors (median, ratio) | note |',
      '| --- | --- | --- | --- | --- |',
    )
    for (const m of metrics) {
      const anchors = Object.keys(m.anchors)
        .map((a) => `${a}: ${round(m.anchors[a]!)} (${round(ratio(m, a))}×)`)
        .join('<br>')
      lines.push(`| ${m.name} | ${m.unit} | ${round(m.pairctl)} | ${anchors || '—'} | ${m.note ?? ''} |`)
    }
    lines.push('')
  }
  writeFileSync(join(here, partial ? `RESULTS.${values.only}.md` : 'RESULTS.md'), `${lines.join('\n')}\n`)
}
