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
