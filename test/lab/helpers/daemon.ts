/**
 * Commands after pairing in the NAT lab, as a user types them (README): `pairctl start` on each host,
 * then `status`, `send`, `listen` against that daemon. Each runs inside the host's namespace.
 */
import { type CliResult, jsonLines, startCli } from '../../cli/helpers/cli.js'
import type { Lab } from './lab.js'
import type { Teardown } from './pairing.js'

/** One lab host and the pairctl instance on it. */
export interface Host {
  lab: Lab
  home: string
  /** Lab node: `hostA` or `hostB`. */
  node: string
  instance: string
}

/** `pairctl --instance I ARGS…` inside the host's namespace, to its exit (killed after `timeoutMs`). */
export async function runOn(
  t: Teardown,
  host: Host,
  args: string[],
  timeoutMs = 60_000,
): Promise<CliResult & { records: Record<string, unknown>[] }> {
  const running = startCli(t, host.home, ['--instance', host.instance, ...args], {}, host.lab.ns(host.node))
  const timer = setTimeout(() => running.child.kill('SIGKILL'), timeoutMs)
  const result = await running.exited
  clearTimeout(timer)
  return { ...result, records: jsonLines(result.stdout) }
}

/** `pairctl start` (detached) with `flags`; `pairctl stop` at teardown. Throws if it did not start. */
export async function startDaemon(t: Teardown, host: Host, flags: string[]): Promise<void> {
  const started = await runOn(t, host, ['start', ...flags, '--json'])
  if (started.code !== 0) throw new Error(`start on ${host.node} failed: ${started.stdout}${started.stderr}`)
  // The stop's own process needs no teardown of its own: its timeout kills it.
  t.teardown(() => runOn({ teardown: () => {} }, host, ['stop', '--json'], 30_000).then(() => {}))
}

/** The daemon's `status --json` record. */
export async function status(t: Teardown, host: Host): Promise<Record<string, unknown>> {
  const { records, code, stderr } = await runOn(t, host, ['status', '--json'])
  const record = records.find((r) => r.type === 'status')
  if (code !== 0 || record === undefined) throw new Error(`status on ${host.node} failed: ${stderr}`)
  return record
}

/** Polls `status` until `check` holds of it; rejects with the last status after `ms`. */
export async function statusUntil(
  t: Teardown,
  host: Host,
  check: (status: Record<string, unknown>) => boolean,
  ms: number,
): Promise<Record<string, unknown>> {
  const deadline = Date.now() + ms
  for (;;) {
    const current = await status(t, host)
    if (check(current)) return current
    if (Date.now() > deadline)
      throw new Error(`status on ${host.node} never matched: ${JSON.stringify(current)}`)
    await new Promise((resolve) => setTimeout(resolve, 1_000))
  }
}
