import { PairctlError } from '../errors.js'
import { CLOSE } from './constants.js'

const ABNORMAL_CLOSURE = 1006
const CLOSE_NAMES = new Map<number, string>(Object.entries(CLOSE).map(([name, code]) => [code, name]))

/** Errors of `lib/relay` (`spec/relay.md` §6). */
export class RelayError extends PairctlError {
  /** The relay closed the connection: `closeCode` and `reason` as it sent them (`spec/relay.md` §6). */
  readonly closeCode: number | undefined

  constructor(
    code: string,
    message: string,
    options: { cause?: unknown; remote?: boolean; closeCode?: number } = {},
  ) {
    super(code, message, options)
    this.closeCode = options.closeCode
  }

  /**
   * The relay (or the peer through it) closed the WebSocket with a code other than a normal end; 1006
   * (RFC 6455 §7.1.5: no close frame) is {@link RelayError.lost}.
   */
  static closedByRelay(closeCode: number, reason: string): RelayError {
    if (closeCode === ABNORMAL_CLOSURE) return RelayError.lost()
    const name = CLOSE_NAMES.get(closeCode) ?? 'unknown'
    return new RelayError(
      'RELAY_CLOSED',
      `relay closed the connection: ${closeCode} ${name}${reason ? ` (${reason})` : ''}`,
      {
        remote: true,
        closeCode,
      },
    )
  }

  /** The WebSocket to the relay could not be opened or failed (crash, reset, refused). */
  static unreachable(address: string, cause: unknown): RelayError {
    return new RelayError(
      'RELAY_UNREACHABLE',
      `relay ${address} unreachable: ${String((cause as Error)?.message ?? cause)}`,
      {
        cause,
        remote: true,
      },
    )
  }

  /** An open circuit or reservation dropped without a close frame: the relay crashed or the network broke. */
  static lost(): RelayError {
    return new RelayError(
      'RELAY_UNREACHABLE',
      'connection to the relay lost (no close frame: crashed or cut off)',
      {
        remote: true,
        closeCode: ABNORMAL_CLOSURE,
      },
    )
  }

  /** The relay sent something the protocol does not allow. */
  static protocol(detail: string): RelayError {
    return new RelayError('RELAY_PROTOCOL_ERROR', `relay protocol violation: ${detail}`, { remote: true })
  }

  /** The caller's AbortSignal fired. */
  static aborted(): RelayError {
    return new RelayError('RELAY_ABORTED', 'relay connection aborted')
  }

  /** Local misuse: a bad option or token. */
  static badArgument(detail: string): RelayError {
    return new RelayError('RELAY_BAD_ARGUMENT', detail)
  }
}
