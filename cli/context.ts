import { instanceDir, pairctlHome } from '../lib/identity/index.js'
import { Output } from './output.js'

/** Options every command accepts (`spec/control.md` §8). */
export interface GlobalArgs {
  instance: string
  json: boolean
}

/** What a command handler gets besides its own arguments. */
export interface Context {
  /** The instance directory (validated name under `$PAIRCTL_HOME`). */
  dir: string
  instance: string
  out: Output
  /** Aborted on Ctrl-C / SIGTERM. */
  signal: AbortSignal
}

/** Builds the context of one invocation; throws `IDENTITY_BAD_INSTANCE` for an unsafe instance name. */
export function makeContext(args: GlobalArgs, signal: AbortSignal): Context {
  return {
    dir: instanceDir(args.instance, pairctlHome()),
    instance: args.instance,
    out: new Output(args.json),
    signal,
  }
}
