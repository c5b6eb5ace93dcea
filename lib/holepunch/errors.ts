import { PairctlError } from '../errors.js'

/** Error codes of `lib/holepunch` (`spec/holepunch.md` §7). */
export type HolepunchErrorCode = 'HOLEPUNCH_NO_PATH' | 'HOLEPUNCH_NO_ANSWER' | 'HOLEPUNCH_BAD_RECORD'

/** The message both sides show when no direct path exists (the relay is the only way left). */
export const NO_PATH_MESSAGE = 'no direct path between the two networks: a relay is needed'

/** Errors of `lib/holepunch`. */
export class HolepunchError extends PairctlError {
  declare readonly code: HolepunchErrorCode

  /** Every direct way failed (direct, mapped, hole punch); `detail` says what was seen. */
  static noPath(detail: string, cause?: unknown): HolepunchError {
    return new HolepunchError('HOLEPUNCH_NO_PATH', `${NO_PATH_MESSAGE} (${detail})`, { cause, remote: true })
  }

  /** The peer did not answer a punch request in time. */
  static noAnswer(ms: number): HolepunchError {
    return new HolepunchError(
      'HOLEPUNCH_NO_ANSWER',
      `the peer did not answer the hole punch within ${ms} ms`,
      {
        remote: true,
      },
    )
  }

  /** A punch record that does not open or decode (skipped, never fatal). */
  static badRecord(detail: string, cause?: unknown): HolepunchError {
    return new HolepunchError('HOLEPUNCH_BAD_RECORD', `invalid punch record: ${detail}`, {
      cause,
      remote: true,
    })
  }
}
