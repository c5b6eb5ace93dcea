import type { Argv } from 'yargs'
import type { Context, GlobalArgs } from './context.js'
import type { ExitCodeValue } from './exit-codes.js'

/** One `pairctl` subcommand: yargs metadata plus a handler that returns the exit code. */
export interface Command<A> {
  command: string | string[]
  describe: string
  builder: (yargs: Argv<GlobalArgs>) => Argv<unknown>
  run(args: A & GlobalArgs, ctx: Context): Promise<ExitCodeValue>
}
