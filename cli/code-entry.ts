import { createInterface, type Interface } from 'node:readline'
import { wordlist } from '@scure/bip39/wordlists/english.js'
import { hasCode } from '../lib/errors.js'
import { parseCode } from '../lib/pairing/code.js'
import type { Context } from './context.js'
import { CliError } from './errors.js'

/** More than any code (24 words of at most 8 letters): standard input is read no further. */
const MAX_CODE_INPUT = 1024

/**
 * The words of the list that complete the last word of `line` (readline's completer contract): a word
 * typed in part gets every list word it starts, so Tab fills in a unique one.
 */
export function completeCode(line: string): [string[], string] {
  const last = line.split(/[\s-]+/).at(-1) ?? ''
  const lower = last.toLowerCase()
  const hits = lower === '' ? [] : wordlist.filter((word) => word.startsWith(lower))
  return [hits, last]
}

/**
 * The pairing code for `join` when none was given as arguments (`spec/cli.md` §7): asked for on a
 * terminal (Tab completes words; a mistyped word gets "did you mean" and the question again), else read
 * from standard input (`echo CODE | pairctl join`), so the code never has to be in argv.
 */
export async function readCode(ctx: Context): Promise<string> {
  return process.stdin.isTTY ? promptCode(ctx) : readPipedCode()
}

async function readPipedCode(): Promise<string> {
  let text = ''
  for await (const chunk of process.stdin) {
    text += String(chunk)
    if (text.length > MAX_CODE_INPUT || text.includes('\n')) break
  }
  process.stdin.destroy()
  const line = text.split('\n').find((candidate) => candidate.trim() !== '')
  if (line === undefined)
    throw CliError.usage(
      'no pairing code: give it as words (pairctl join WORD WORD …) or on standard input (echo CODE | pairctl join)',
    )
  return line.trim()
}

async function promptCode(ctx: Context): Promise<string> {
  const rl = createInterface({
    input: process.stdin,
    output: process.stderr,
    completer: completeCode,
    terminal: true,
  })
  try {
    for (;;) {
      const answer = await question(rl, 'Code from the other device (Tab completes words): ', ctx.signal)
      try {
        return parseCode(answer).text
      } catch (err) {
        if (!hasCode(err, 'PAIRING_UNKNOWN_WORD') && !hasCode(err, 'PAIRING_BAD_CODE')) throw err
        process.stderr.write(`${(err as Error).message}; try again (Ctrl-C to stop)\n`)
      }
    }
  } finally {
    rl.close()
  }
}

/** One line from `rl`; Ctrl-C (readline's SIGINT) or an aborted `signal` is {@link CliError.pairingInterrupted}. */
export function question(rl: Interface, prompt: string, signal: AbortSignal): Promise<string> {
  return new Promise((resolve, reject) => {
    const interrupted = () => {
      cleanUp()
      reject(CliError.pairingInterrupted())
    }
    const cleanUp = () => {
      rl.off('SIGINT', interrupted).off('close', interrupted)
      signal.removeEventListener('abort', interrupted)
    }
    rl.once('SIGINT', interrupted).once('close', interrupted)
    signal.addEventListener('abort', interrupted, { once: true })
    rl.question(prompt, (answer) => {
      cleanUp()
      resolve(answer)
    })
  })
}
