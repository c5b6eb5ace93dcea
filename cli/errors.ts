import { PairctlError } from '../lib/errors.js'
import { ExitCode, type ExitCodeValue } from './exit-codes.js'

/** Errors of the `pairctl` command itself (usage, daemon state, cancellation): `spec/cli.md` §4. */
export class CliError extends PairctlError {
  /** Bad usage; the message says what to type instead. */
  static usage(message: string): CliError {
    return new CliError('CLI_USAGE', message)
  }

  /** The user declined at the SAS prompt or otherwise cancelled. */
  static cancelled(message = 'cancelled'): CliError {
    return new CliError('CLI_CANCELLED', message)
  }

  /** Ctrl-C; `outcome` says what it left behind, for commands where that needs saying. */
  static interrupted(outcome?: string): CliError {
    return new CliError(
      'CLI_INTERRUPTED',
      `interrupted (Ctrl-C)${outcome === undefined ? '' : `; ${outcome}`}`,
    )
  }

  /** Ctrl-C during pairing: the run was cancelled, its advert withdrawn. */
  static pairingInterrupted(): CliError {
    return CliError.interrupted('nothing was paired')
  }
}

/** Error code → exit code (`spec/cli.md` §4); codes not listed exit 1. */
const EXIT_BY_CODE: Record<string, ExitCodeValue> = {
  CLI_USAGE: ExitCode.USAGE,
  CLI_CANCELLED: ExitCode.CANCELLED,
  CLI_INTERRUPTED: ExitCode.INTERRUPTED,
  IDENTITY_BAD_INSTANCE: ExitCode.USAGE,
  IDENTITY_BAD_DEVICE_ID: ExitCode.USAGE,
  IDENTITY_INSTANCE_LOCKED: ExitCode.DAEMON,
  CONTROL_DAEMON_RUNNING: ExitCode.DAEMON,
  CONTROL_NOT_RUNNING: ExitCode.DAEMON,
  CONTROL_DAEMON_STOPPED: ExitCode.DAEMON,
  CONFIG_BAD_VALUE: ExitCode.USAGE,
  NODE_BAD_OPTION: ExitCode.USAGE,
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

/** The process exit code for an error (`spec/cli.md` §4). */
export function exitCodeFor(err: unknown): ExitCodeValue {
  if (!(err instanceof PairctlError)) return ExitCode.FAILED
  return EXIT_BY_CODE[err.code] ?? ExitCode.FAILED
}

/**
 * The next step for a person, by error code: the library names no command or flag, the CLI does
 * (`spec/cli.md` §4). `flag` is ` --instance NAME` (empty for the default instance).
 */
const HINTS: Record<string, (flag: string) => string> = {
  CONTROL_NOT_RUNNING: (flag) => `start one with: pairctl start${flag}`,
  CONTROL_DAEMON_RUNNING: (flag) => `stop it with: pairctl stop${flag}`,
  IDENTITY_INSTANCE_LOCKED: (flag) => `stop it first (pairctl stop${flag}) or use another --instance`,
  NODE_UNKNOWN_DEVICE: (flag) => `list them with: pairctl devices${flag}`,
  CONTROL_DAEMON_STOPPED: (flag) => `start it again with: pairctl start${flag}`,
  NODE_NO_PEERS: (flag) =>
    `pass --bootstrap HOST:PORT or set it with \`pairctl config set bootstrap HOST:PORT${flag}\``,
}

/** `err` with the CLI's next step appended to its message (same class, code and cause). */
export function withHint(err: unknown, instance: string): unknown {
  if (!(err instanceof PairctlError)) return err
  const hint = HINTS[err.code]?.(instance === 'default' ? '' : ` --instance ${instance}`)
  if (hint === undefined || err.message.includes(hint)) return err
  return new PairctlError(err.code, `${err.message}; ${hint}`, { cause: err.cause, remote: err.remote })
}
