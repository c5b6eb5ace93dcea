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

/** Error code → exit code (`spec/control.md` §8); codes not listed exit 1. */
const EXIT_BY_CODE: Record<string, ExitCodeValue> = {
  CLI_USAGE: ExitCode.USAGE,
  CLI_CANCELLED: ExitCode.CANCELLED,
  CLI_INTERRUPTED: ExitCode.INTERRUPTED,
  IDENTITY_BAD_INSTANCE: ExitCode.USAGE,
  IDENTITY_BAD_DEVICE_ID: ExitCode.USAGE,
  IDENTITY_INSTANCE_LOCKED: ExitCode.DAEMON,
  CONTROL_DAEMON_RUNNING: ExitCode.DAEMON,
  CONTROL_NOT_RUNNING: ExitCode.DAEMON,
  PAIRING_WRONG_CODE: ExitCode.WRONG_CODE,
  PAIRING_CODE_BURNED: ExitCode.WRONG_CODE,
  PAIRING_EXPIRED: ExitCode.TIMEOUT,
  PAIRING_TIMEOUT: ExitCode.TIMEOUT,
  PAIRING_NOT_FOUND: ExitCode.TIMEOUT,
  PAIRING_CANCELLED: ExitCode.CANCELLED,
  PAIRING_REJECTED: ExitCode.CANCELLED,
  PAIRING_BAD_CODE: ExitCode.USAGE,
  PAIRING_UNKNOWN_WORD: ExitCode.USAGE,
  PAIRING_BAD_OPTION: ExitCode.USAGE,
}

/** The process exit code for an error (`spec/control.md` §8). */
export function exitCodeFor(err: unknown): ExitCodeValue {
  if (!(err instanceof PairctlError)) return ExitCode.FAILED
  return EXIT_BY_CODE[err.code] ?? ExitCode.FAILED
}
