import type { Argv } from 'yargs'
import type { Context, GlobalArgs } from './context.js'
import type { ExitCodeValue } from './exit-codes.js'

/** One `pairctl` subcommand: yargs metadata plus a handler that returns the exit code. */
export interface Command<A> {
  command: string | string[]
  describe: string
  builder: (yargs: Argv<GlobalArgs>) => Argv<unknown>
  run(args: A & GlobalArgs, ctx: Context): Promise<ExitCodeValue | number>
  /** Nested commands (`pair generate`); `run` is then never reached, yargs demands a subcommand. */
  // biome-ignore lint/suspicious/noExplicitAny: each subcommand has its own argument type
  subcommands?: Command<any>[]
}
