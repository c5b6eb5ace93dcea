import { spawn } from 'node:child_process'
import { existsSync } from 'node:fs'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..')
const built = join(root, 'dist', 'cli', 'pairctl.js')
/**
 * How to run the CLI: under `npm test` (whose `pretest` has just compiled `dist/`) the build, which starts
 * several times faster; otherwise the source through tsx, so a direct `tap` run never uses a stale build.
 */
export const CLI_ARGS =
  process.env.npm_lifecycle_event === 'test' && existsSync(built)
    ? [built]
    : ['--import', 'tsx', join(root, 'cli', 'pairctl.ts')]

export interface CliResult {
  code: number | null
  stdout: string
  stderr: string
}

/** Runs `pairctl ...args` to completion with `PAIRCTL_HOME=home`; kills it after `timeoutMs`. */
export function runCli(home: string, args: string[], timeoutMs = 20_000): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...CLI_ARGS, ...args], {
      env: { ...process.env, PAIRCTL_HOME: home, DEBUG: '' },
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()))
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()))
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs)
    child.on('error', reject)
    child.on('close', (code) => {
      clearTimeout(timer)
      resolve({ code, stdout, stderr })
    })
  })
}

/** Parses each non-empty stdout line as JSON. */
export function jsonLines(stdout: string): Record<string, unknown>[] {
  return stdout
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => JSON.parse(line) as Record<string, unknown>)
}

/** A fresh temporary PAIRCTL_HOME, removed at teardown of `t`. */
export async function tempHome(t: { teardown(fn: () => Promise<void>): void }): Promise<string> {
  const home = await mkdtemp(join(tmpdir(), 'pairctl-test-'))
  t.teardown(() => rm(home, { recursive: true, force: true }))
  return home
}

/** A `pairctl` process left running: its JSON lines as they come, and its exit. */
export interface RunningCli {
  child: ReturnType<typeof spawn>
  /** Resolves with the first JSON line satisfying `match`; rejects if the process ends first. */
  waitFor(
    match: (record: Record<string, unknown>) => boolean,
    timeoutMs?: number,
  ): Promise<Record<string, unknown>>
  /** Every JSON line so far. */
  records: Record<string, unknown>[]
  exited: Promise<CliResult>
}

/**
 * Starts `pairctl ...args` and returns at once; the process is killed at teardown of `t` if still running.
 * With `netns`, it runs inside that network namespace (the NAT lab).
 */
export function startCli(
  t: { teardown(fn: () => void): void },
  home: string,
  args: string[],
  extraEnv: Record<string, string> = {},
  netns?: string,
): RunningCli {
  const command = [process.execPath, ...CLI_ARGS, ...args]
  const wrapped = netns === undefined ? command : ['ip', 'netns', 'exec', netns, ...command]
  const child = spawn(wrapped[0]!, wrapped.slice(1), {
    env: { ...process.env, PAIRCTL_HOME: home, DEBUG: '', ...extraEnv },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  t.teardown(() => child.kill('SIGKILL'))
  const records: Record<string, unknown>[] = []
  const waiters = new Set<() => void>()
  let stdout = ''
  let stderr = ''
  let buffer = ''
  child.stdout!.on('data', (chunk: Buffer) => {
    stdout += chunk.toString()
    buffer += chunk.toString()
    const lines = buffer.split('\n')
    buffer = lines.pop()!
    // Only --json runs print records; a terminal-style run's lines are kept in `stdout` alone.
    for (const line of lines) if (line.startsWith('{')) records.push(JSON.parse(line))
    for (const wake of waiters) wake()
  })
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()))
  const exited = new Promise<CliResult>((resolve) =>
    child.on('close', (code) => {
      resolve({ code, stdout, stderr })
      for (const wake of waiters) wake()
    }),
  )
  let done = false
  exited.then(() => (done = true))
  const waitFor = (match: (record: Record<string, unknown>) => boolean, timeoutMs = 20_000) =>
    new Promise<Record<string, unknown>>((resolve, reject) => {
      const timer = setTimeout(
        () => finish(new Error(`timed out; got ${JSON.stringify(records)} ${stderr}`)),
        timeoutMs,
      )
      const check = () => {
        const found = records.find(match)
        if (found !== undefined) finish(null, found)
        else if (done) finish(new Error(`process ended: ${JSON.stringify(records)} ${stderr}`))
      }
      const finish = (err: Error | null, record?: Record<string, unknown>) => {
        clearTimeout(timer)
        waiters.delete(check)
        if (err === null) resolve(record!)
        else reject(err)
      }
      waiters.add(check)
      check()
    })
  return { child, waitFor, records, exited }
}

/** Starts `pairctl bootstrap` on loopback; resolves with its `HOST:PORT` once it listens. */
export async function startBootstrap(t: { teardown(fn: () => void): void }, home: string): Promise<string> {
  const node = startCli(t, home, ['bootstrap', '--host', '127.0.0.1', '--port', '0', '--json'])
  const listening = await node.waitFor((record) => record.type === 'listening')
  return `127.0.0.1:${listening.port}`
}
