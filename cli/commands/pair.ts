import type { Argv } from 'yargs'
import { DEFAULT_JOIN_TIMEOUT_MS } from '../../lib/node/options.js'
import {
  DEFAULT_TTL_MS,
  DEFAULT_WORDS,
  MAX_TTL_MS,
  MAX_WORDS,
  MIN_WORDS,
} from '../../lib/pairing/constants.js'
import type { Command } from '../command.js'
import { ExitCode } from '../exit-codes.js'
import { type NetworkArgs, networkOptions, wholeNumber } from '../network-options.js'

interface PairArgs extends NetworkArgs {
  timeout?: number
  confirm: boolean
}

interface GenerateArgs extends PairArgs {
  words?: number
}

interface JoinArgs extends PairArgs {
  code?: (string | undefined)[]
}

/** The longest `join --timeout`: an hour of trying. */
const MAX_JOIN_SECONDS = 3600

function pairOptions(yargs: Argv, timeout: { describe: string; max: number }) {
  return networkOptions(yargs)
    .option('timeout', {
      requiresArg: true,
      coerce: wholeNumber('timeout', 1, timeout.max, ' seconds'),
      describe: timeout.describe,
    })
    .option('confirm', {
      type: 'boolean',
      default: false,
      describe: 'Show a 6-digit code and ask y/n before pairing',
    })
}

/** Loaded on use: the network stack is most of the CLI's start-up time, and `--help` needs none of it. */
const loadPairing = () => import('../pairing.js')

const timeoutMs = (args: PairArgs) => (args.timeout === undefined ? undefined : args.timeout * 1000)

/** `pairctl generate`: prints a pairing code and waits for the other device to join with it. */
export const generateCommand: Command<GenerateArgs> = {
  command: 'generate',
  describe: 'Make a pairing code and wait for the other device to join',
  builder: (yargs: Argv) =>
    pairOptions(yargs, {
      describe: `Seconds the code stays valid, 1-${MAX_TTL_MS / 1000} (default: ${DEFAULT_TTL_MS / 1000})`,
      max: MAX_TTL_MS / 1000,
    })
      .option('words', {
        requiresArg: true,
        coerce: wholeNumber('words', MIN_WORDS, MAX_WORDS),
        describe: `Words in the code, ${MIN_WORDS}-${MAX_WORDS}; more words: more secure (default: ${DEFAULT_WORDS})`,
      })
      .example('$0 generate', 'prints a code such as "acid-bulk-cove-dune-echo" and waits')
      .example('$0 generate --words 6 --timeout 600', 'a longer code, valid 10 minutes'),
  run: async (args, ctx) =>
    (await loadPairing()).runPairing(
      { kind: 'generate', words: args.words, timeoutMs: timeoutMs(args), confirm: args.confirm },
      args,
      ctx,
    ),
}

/** The code words given as arguments, or undefined (yargs reports an absent array positional as `[undefined]`). */
function typedCode(words: (string | undefined)[] | undefined): string | undefined {
  const given = (words ?? []).filter((word): word is string => typeof word === 'string' && word !== '')
  return given.length === 0 ? undefined : given.join(' ')
}

/** `pairctl join [code…]`: pairs with the device that shows this code. */
export const joinCommand: Command<JoinArgs> = {
  command: 'join [code..]',
  describe: 'Pair with the device showing this code (asks for it when not given)',
  builder: (yargs: Argv) =>
    pairOptions(yargs, {
      describe: `Seconds to keep trying, 1-${MAX_JOIN_SECONDS} (default: ${DEFAULT_JOIN_TIMEOUT_MS / 1000})`,
      max: MAX_JOIN_SECONDS,
    })
      .positional('code', {
        type: 'string',
        array: true,
        default: undefined,
        describe: 'The code, as words (dashes or spaces); without it: asked for, or read from stdin',
      })
      .example('$0 join', 'asks for the code; Tab completes each word')
      .example('$0 join acid bulk cove dune echo', 'dashes or spaces both work')
      .example('echo CODE | $0 join', 'the code from standard input, not argv'),
  run: async (args, ctx) =>
    (await loadPairing()).runPairing(
      {
        kind: 'join',
        code: typedCode(args.code),
        timeoutMs: timeoutMs(args),
        confirm: args.confirm,
      },
      args,
      ctx,
    ),
}

/** `pairctl pair generate|join`: the seed's spelling of the two commands above. */
export const pairCommand: Command<object> = {
  command: 'pair',
  describe: 'Same as generate / join (pairctl pair generate, pairctl pair join <code…>)',
  builder: (yargs: Argv) =>
    yargs
      .demandCommand(1, 'name a subcommand: pair generate, or pair join <code…>')
      .example('$0 pair generate', 'the same as: pairctl generate'),
  subcommands: [generateCommand, joinCommand],
  run: async () => ExitCode.USAGE,
}
