import type { Argv } from 'yargs'
import type { Command } from '../command.js'
import { ExitCode } from '../exit-codes.js'
import { type NetworkArgs, networkOptions } from '../network-options.js'

interface PairArgs extends NetworkArgs {
  timeout?: number
  confirm: boolean
}

interface GenerateArgs extends PairArgs {
  words?: number
}

interface JoinArgs extends PairArgs {
  code: string[]
}

function pairOptions(yargs: Argv) {
  return networkOptions(yargs)
    .option('timeout', {
      type: 'number',
      describe: 'Seconds: how long the code stays valid (generate, max 900) / to keep trying (join)',
    })
    .option('confirm', {
      type: 'boolean',
      default: false,
      describe: 'Show a 6-digit code and ask y/n before pairing',
    })
}

/** Loaded on use: the network stack is most of the CLI's start-up time, and `--help` needs none of it. */
const loadPairing = () => import('../pairing.js')

const timeoutMs = (args: PairArgs) =>
  args.timeout === undefined ? undefined : Math.round(args.timeout * 1000)

/** `pairctl generate`: prints a pairing code and waits for the other device to join with it. */
export const generateCommand: Command<GenerateArgs> = {
  command: 'generate',
  describe: 'Make a pairing code and wait for the other device to join',
  builder: (yargs: Argv) =>
    pairOptions(yargs)
      .option('words', { type: 'number', describe: 'Words in the code (more words: more secure)' })
      .example('$0 --instance alice generate', 'prints a code such as "acid-bulk-cove-dune-echo"'),
  run: async (args, ctx) =>
    (await loadPairing()).runPairing(
      { kind: 'generate', words: args.words, timeoutMs: timeoutMs(args), confirm: args.confirm },
      args,
      ctx,
    ),
}

/** `pairctl join <code…>`: pairs with the device that shows this code. */
export const joinCommand: Command<JoinArgs> = {
  command: 'join <code..>',
  describe: 'Pair with the device showing this code',
  builder: (yargs: Argv) =>
    pairOptions(yargs)
      .positional('code', { type: 'string', array: true, demandOption: true, describe: 'The code, as words' })
      .example('$0 --instance bob join acid bulk cove dune echo', 'dashes or spaces both work'),
  run: async (args, ctx) =>
    (await loadPairing()).runPairing(
      { kind: 'join', code: args.code.join(' '), timeoutMs: timeoutMs(args), confirm: args.confirm },
      args,
      ctx,
    ),
}

/** `pairctl pair generate|join`: the seed's spelling of the two commands above. */
export const pairCommand: Command<object> = {
  command: 'pair',
  describe: 'Same as generate / join (pairctl pair generate, pairctl pair join <code…>)',
  builder: (yargs: Argv) => yargs.demandCommand(1, 'name a subcommand: pair generate, or pair join <code…>'),
  subcommands: [generateCommand, joinCommand],
  run: async () => ExitCode.USAGE,
}
