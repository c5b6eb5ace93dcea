import { spawn } from 'node:child_process'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

/** The CLI entry run from source through tsx, so tests never run a stale build. */
export const CLI = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'cli', 'pairctl.ts')

export interface CliResult {
  code: number | null
  stdout: string
  stderr: string
}

/** Runs `pairctl ...args` to completion with `PAIRCTL_HOME=home`; kills it after `timeoutMs`. */
export function runCli(home: string, args: string[], timeoutMs = 20_000): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', CLI, ...args], {
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
