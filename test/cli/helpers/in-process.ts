import { main } from '../../../cli/main.js'
import type { CliResult } from './cli.js'

/**
 * Runs `pairctl ...args` in this process through the same `main()` as the entry point, with
 * `PAIRCTL_HOME=home` and stdout/stderr captured: for commands that never start a node (usage errors,
 * help, config), where a process per case would only add start-up time.
 */
export async function runInProcess(home: string, args: string[]): Promise<CliResult> {
  const previousHome = process.env.PAIRCTL_HOME
  const writes = { stdout: process.stdout.write, stderr: process.stderr.write }
  let stdout = ''
  let stderr = ''
  process.env.PAIRCTL_HOME = home
  process.stdout.write = ((chunk: string | Uint8Array) => {
    stdout += chunk.toString()
    return true
  }) as typeof process.stdout.write
  process.stderr.write = ((chunk: string | Uint8Array) => {
    stderr += chunk.toString()
    return true
  }) as typeof process.stderr.write
  try {
    const code = await main(args)
    return { code, stdout, stderr }
  } finally {
    process.stdout.write = writes.stdout
    process.stderr.write = writes.stderr
    if (previousHome === undefined) delete process.env.PAIRCTL_HOME
    else process.env.PAIRCTL_HOME = previousHome
  }
}
