/**
 * The lab as a test file's fixture. Apart from `lab.ts` because it imports tap, which a benchmark
 * (`bench/lab`) using the lab must not load: tap's root test would time the benchmark out.
 */
import t from 'tap'
import { Lab, labPrefix, labUnavailable } from './lab.js'

/**
 * Brings up a lab of its own for one test file and tears it down at the file's end, or fails the file
 * with the reason the lab cannot run here; `body` defines the file's tests against the lab.
 */
export async function withLab(name: string, body: (lab: Lab) => void | Promise<void>): Promise<void> {
  const unavailable = labUnavailable()
  if (unavailable) return void t.fail(unavailable)
  const lab = new Lab(labPrefix(name))
  t.teardown(() => lab.down())
  lab.up()
  await body(lab)
}
