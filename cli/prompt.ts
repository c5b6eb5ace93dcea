import { createInterface } from 'node:readline/promises'

/**
 * Asks a yes/no question on the terminal (the prompt goes to stderr so `--json` stdout stays clean).
 * The caller checked that stdin is a terminal (`--confirm` without one is a usage error).
 */
export async function askYesNo(question: string, signal: AbortSignal): Promise<boolean> {
  const rl = createInterface({ input: process.stdin, output: process.stderr })
  try {
    const answer = await rl.question(`${question} [y/N] `, { signal })
    return /^y(es)?$/i.test(answer.trim())
  } finally {
    rl.close()
  }
}
