import { createInterface } from 'node:readline/promises'
import { CliError } from './errors.js'

/**
 * Asks a yes/no question on the terminal (the prompt goes to stderr so `--json` stdout stays clean).
 * Throws `CLI_USAGE` when stdin is not a terminal: `--confirm` needs a person to answer.
 */
export async function askYesNo(question: string, signal: AbortSignal): Promise<boolean> {
  if (!process.stdin.isTTY)
    throw CliError.usage('--confirm needs a terminal to answer on; run without --confirm')
  const rl = createInterface({ input: process.stdin, output: process.stderr })
  try {
    const answer = await rl.question(`${question} [y/N] `, { signal })
    return /^y(es)?$/i.test(answer.trim())
  } finally {
    rl.close()
  }
}
