/**
 * Exit codes of the `pairctl` command (`spec/control.md` §8). Scripts switch on these, so they are
 * stable: a new failure kind gets a new number, an existing number never changes meaning.
 */
export const ExitCode = {
  /** The command did what was asked. */
  OK: 0,
  /** Any failure without a more specific code below (I/O, network, a bug). */
  FAILED: 1,
  /** Bad usage: unknown command or flag, missing or malformed argument. */
  USAGE: 2,
  /** The pairing code was wrong, already used, or the peer failed verification (SAS rejected). */
  WRONG_CODE: 3,
  /** Timed out: the code expired, or no advertisement / peer was found in time. */
  TIMEOUT: 4,
  /** Cancelled by a person (answered "no" at the SAS prompt, or the peer cancelled). */
  CANCELLED: 5,
  /** The instance's daemon state forbids the command: already running, or not running. */
  DAEMON: 6,
  /** Interrupted by Ctrl-C (SIGINT): 128 + 2, as shells report it. */
  INTERRUPTED: 130,
} as const

export type ExitCodeValue = (typeof ExitCode)[keyof typeof ExitCode]
