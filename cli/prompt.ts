import { createInterface } from 'node:readline'
import { question } from './code-entry.js'

/**
 * Asks a yes/no question on the terminal (the prompt goes to stderr so `--json` stdout stays clean).
 * The caller checked that stdin is a terminal (`--confirm` without one is a usage error). Ctrl-C is
 * `CLI_INTERRUPTED` (exit 130), not a "no".
 */
export async function askYesNo(text: string, signal: AbortSignal): Promise<boolean> {
  const rl = createInterface({ input: process.stdin, output: process.stderr, terminal: true })
  try {
    const answer = await question(rl, `${text} [y/N] `, signal)
    return /^y(es)?$/i.test(answer.trim())
  } finally {
    rl.close()
  }
}
