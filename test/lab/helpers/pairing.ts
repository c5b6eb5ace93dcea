/**
 * Pairing in the NAT lab as a user types it (README): `pairctl bootstrap --port N` in pub, `pairctl
 * generate` on hostA, `pairctl join CODE` on hostB. Shared by the lab tests and `bench/lab`.
 */
import { type CliResult, jsonLines, startCli } from '../../cli/helpers/cli.js'
import type { Lab } from './lab.js'

/** What `startCli` needs of a tap test (the bench passes its own). */
export interface Teardown {
  teardown(fn: () => void): void
}

/** Starts the bootstrap node in pub on `port`, as the README says; returns the flag devices are given. */
export async function startBootstrap(t: Teardown, lab: Lab, home: string, port: number): Promise<string[]> {
  const args = ['bootstrap', '--port', String(port), '--json']
  const bootstrap = startCli(t, home, args, {}, lab.ns('pub'))
  await bootstrap.waitFor((record) => record.type === 'listening', 90_000)
  return ['--bootstrap', `203.0.113.1:${port}`]
}

/** One side's outcome. */
export interface Side extends CliResult {
  records: Record<string, unknown>[]
  /** Milliseconds from the join command's start to this process's exit. */
  endedAfterMs: number
}

/** Both sides of one pairing, and when the joiner's first connection was secured. */
export interface Pairing {
  alice: Side
  bob: Side
  /** From `join` starting to its `peer-connected` line, when there was one. */
  connectedAfterMs: number | null
}

/**
 * `pairctl generate` on hostA (`--instance alice`, extra `aliceFlags`), then `pairctl join CODE` on hostB;
 * waits for both to exit.
 */
export async function pairAcross(
  t: Teardown,
  lab: Lab,
  home: string,
  network: string[],
  aliceFlags: string[] = [],
): Promise<Pairing> {
  const generateArgs = [
    '--instance',
    'alice',
    'generate',
    '--name',
    'alice',
    ...aliceFlags,
    ...network,
    '--json',
  ]
  const alice = startCli(t, home, generateArgs, {}, lab.ns('hostA'))
  const { code } = await alice.waitFor((record) => record.type === 'code', 60_000)
  const started = Date.now()
  const joinArgs = ['--instance', 'bob', 'join', String(code), '--name', 'bob', ...network, '--json']
  const bob = startCli(t, home, joinArgs, {}, lab.ns('hostB'))
  let connectedAfterMs: number | null = null
  bob
    .waitFor((record) => record.type === 'peer-connected', 120_000)
    .then(() => (connectedAfterMs = Date.now() - started))
    .catch(() => {})
  const side = async (running: typeof alice): Promise<Side> => {
    const result = await running.exited
    return { ...result, records: jsonLines(result.stdout), endedAfterMs: Date.now() - started }
  }
  const [aliceSide, bobSide] = await Promise.all([side(alice), side(bob)])
  return { alice: aliceSide, bob: bobSide, connectedAfterMs }
}

/** The `peer-connected` line of a side, if any. */
export function peerConnected(side: Side): Record<string, unknown> | undefined {
  return side.records.find((record) => record.type === 'peer-connected')
}
