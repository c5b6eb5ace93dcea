import { PairctlError } from '../lib/errors.js'
import { ExitCode, type ExitCodeValue } from './exit-codes.js'

/** Errors of the `pairctl` command itself (usage, daemon state, cancellation): `spec/control.md` §8. */
export class CliError extends PairctlError {
  /** Bad usage; the message says what to type instead. */
  static usage(message: string): CliError {
    return new CliError('CLI_USAGE', message)
  }

  /** The user declined at the SAS prompt or otherwise cancelled. */
  static cancelled(message = 'cancelled'): CliError {
    return new CliError('CLI_CANCELLED', message)
  }

  /** Ctrl-C. */
  static interrupted(): CliError {
    return new CliError('CLI_INTERRUPTED', 'interrupted (Ctrl-C); nothing was paired')
  }
}

/** Exact error codes with a dedicated exit code; anything else falls back to {@link byPattern}. */
const EXIT_BY_CODE: Record<string, ExitCodeValue> = {
  CLI_USAGE: ExitCode.USAGE,
  CLI_CANCELLED: ExitCode.CANCELLED,
  CLI_INTERRUPTED: ExitCode.INTERRUPTED,
  IDENTITY_BAD_INSTANCE: ExitCode.USAGE,
  IDENTITY_BAD_DEVICE_ID: ExitCode.USAGE,
  IDENTITY_INSTANCE_LOCKED: ExitCode.DAEMON,
  CONTROL_DAEMON_RUNNING: ExitCode.DAEMON,
  CONTROL_NOT_RUNNING: ExitCode.DAEMON,
}

/**
 * The process exit code for an error (`spec/control.md` §8). Pairing error codes are matched by their
 * meaning (wrong code, timeout, cancel) so that a code added later by `lib/pairing` still maps sensibly.
 */
export function exitCodeFor(err: unknown): ExitCodeValue {
  if (!(err instanceof PairctlError)) return ExitCode.FAILED
  return EXIT_BY_CODE[err.code] ?? byPattern(err.code)
}

function byPattern(code: string): ExitCodeValue {
  if (/WRONG_CODE|BAD_CODE|BURNED|PAKE|SAS_MISMATCH|AUTH|CODE_USED|BAD_PROOF/.test(code))
    return ExitCode.WRONG_CODE
  if (/TIMEOUT|EXPIRED|NOT_FOUND/.test(code)) return ExitCode.TIMEOUT
  if (/CANCEL|ABORT|REJECT/.test(code)) return ExitCode.CANCELLED
  if (/USAGE|INVALID_CODE|BAD_ARG/.test(code)) return ExitCode.USAGE
  return ExitCode.FAILED
}
