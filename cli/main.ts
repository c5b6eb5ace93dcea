import createDebug from 'debug'
import yargs, { type Argv } from 'yargs'
import type { Command } from './command.js'
import { COMMANDS } from './commands/index.js'
import { type GlobalArgs, makeContext } from './context.js'
import { CliError, exitCodeFor, withHint } from './errors.js'
import { ExitCode } from './exit-codes.js'
import { Output, tolerateClosedReader } from './output.js'
import { packageVersion } from './version.js'

const debug = createDebug('pairctl:cli')
/** How long a command may take to cancel cleanly after Ctrl-C or SIGTERM before the process exits. */
const SIGNAL_GRACE_MS = 5_000

const EPILOGUE = `Exit codes: 0 ok, 1 failed, 2 usage, 3 wrong or used code, 4 timeout or expired code,
5 cancelled, 6 daemon already running / not running, 130 interrupted (Ctrl-C).
Debug logs: DEBUG=pairctl:* pairctl …   Files: $PAIRCTL_HOME (default ~/.local/share/pairctl).`

/**
 * Runs one `pairctl` invocation and returns its exit code (`spec/cli.md` §4) instead of exiting, so
 * the entry point decides when the process ends. Usage errors print the problem and a hint (exit 2).
 */
export async function main(argv: string[]): Promise<number> {
  tolerateClosedReader(process.stdout)
  tolerateClosedReader(process.stderr)
  const json = argv.includes('--json')
  if (argv.includes('--version')) return printVersion(json)
  const controller = new AbortController()
  // First Ctrl-C: cancel cleanly (adverts withdrawn); a second one while that hangs: leave at once.
  const onSignal = () => {
    if (controller.signal.aborted) process.exit(ExitCode.INTERRUPTED)
    controller.abort(CliError.interrupted())
    // A command stuck where it cannot be cancelled (a hung file system call) still ends.
    setTimeout(() => process.exit(ExitCode.INTERRUPTED), SIGNAL_GRACE_MS).unref()
  }
  process.on('SIGINT', onSignal).on('SIGTERM', onSignal)
  const result = { code: ExitCode.OK as number }
  try {
    await buildParser(argv, controller.signal, result).parseAsync()
    return result.code
  } catch (err) {
    return reportUsage(err, argv, json)
  } finally {
    process.off('SIGINT', onSignal).off('SIGTERM', onSignal)
  }
}

function printVersion(json: boolean): number {
  new Output(json).emit({ type: 'version', version: packageVersion() }, () => packageVersion())
  return ExitCode.OK
}

function buildParser(argv: string[], signal: AbortSignal, result: { code: number }): Argv<GlobalArgs> {
  const parser = yargs(argv)
    .scriptName('pairctl')
    .usage('$0 <command> [options]\n\nPair devices with a short word code, peer to peer.')
    .option('instance', { type: 'string', default: 'default', global: true, describe: 'Instance name' })
    .option('json', { type: 'boolean', default: false, global: true, describe: 'One JSON object per line' })
    .strict()
    .recommendCommands()
    .demandCommand(1, 'name a command, e.g. "pairctl id"')
    .help()
    .alias('help', 'h')
    .version(false)
    .option('version', { type: 'boolean', describe: 'Show the version (with --json: {"type":"version"})' })
    .epilogue(EPILOGUE)
    .wrap(Math.min(110, process.stdout.columns ?? 100))
    .exitProcess(false)
    .fail((message, err) => {
      throw err ?? CliError.usage(message)
    })
  for (const command of COMMANDS) register(parser, command, signal, result)
  return parser
}

function register<A>(
  parser: Argv<GlobalArgs>,
  command: Command<A>,
  signal: AbortSignal,
  result: { code: number },
) {
  const builder = (yargs: Argv<GlobalArgs>) => {
    for (const sub of command.subcommands ?? []) register(yargs, sub, signal, result)
    return command.builder(yargs)
  }
  parser.command(command.command, command.describe, builder, async (args) => {
    result.code = await invoke(command, args as unknown as A & GlobalArgs, signal)
  })
}

/** Runs a handler; its failures become an error message (with the next step) and an exit code. */
async function invoke<A>(command: Command<A>, args: A & GlobalArgs, signal: AbortSignal): Promise<number> {
  const out = new Output(args.json)
  try {
    return await command.run(args, makeContext(args, signal))
  } catch (err) {
    debug('command failed: %O', err)
    const failure = signal.aborted && !(err instanceof CliError) ? signal.reason : err
    out.error(withHint(failure, args.instance))
    return exitCodeFor(failure)
  }
}

/** The names of the top-level commands, for "did you mean". */
function commandNames(): string[] {
  return COMMANDS.flatMap((command) => [command.command].flat().map((spec) => spec.split(' ')[0]!))
}

/**
 * yargs suggests by edit distance, which maps `gen` to `send`; an abbreviation of exactly one command
 * is the better guess.
 */
function suggestion(argv: string[], yargsMessage: string): string {
  const word = argv.find((arg) => !arg.startsWith('-'))
  const names = commandNames()
  if (word === undefined || names.includes(word)) return yargsMessage
  const prefixed = names.filter((name) => name.startsWith(word))
  return prefixed.length === 1 ? `Did you mean ${prefixed[0]}?` : yargsMessage
}

function reportUsage(err: unknown, argv: string[], json: boolean): number {
  const out = new Output(json)
  const raw = err instanceof Error ? err.message : String(err)
  const message = raw.startsWith('Did you mean') ? `unknown command. ${suggestion(argv, raw)}` : raw
  const code = err instanceof Error && !(err instanceof CliError) ? exitCodeFor(err) : ExitCode.USAGE
  const usage = code === ExitCode.FAILED ? ExitCode.USAGE : code
  out.error(CliError.usage(`${message}\nRun "pairctl --help" for the list of commands and options.`))
  return usage
}
