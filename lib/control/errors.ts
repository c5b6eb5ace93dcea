import { PairctlError } from '../errors.js'
import { CONTROL_MAX_MESSAGE_BYTES } from './constants.js'

/** Errors of the control API (`spec/control.md` §6); the code travels in `error.code` of a response. */
export class ControlError extends PairctlError {
  /** No daemon answers on the instance's socket. */
  static notRunning(instance: string): ControlError {
    return new ControlError('CONTROL_NOT_RUNNING', `no pairctl daemon is running for instance "${instance}"`)
  }

  /** A daemon already owns the instance. */
  static daemonRunning(instance: string, pid: number | null): ControlError {
    const owner = pid === null ? '' : ` (process ${pid})`
    return new ControlError(
      'CONTROL_DAEMON_RUNNING',
      `a pairctl daemon is already running for instance "${instance}"${owner}`,
    )
  }

  /** A malformed or schema-violating message. `remote` is true when the other side sent it. */
  static badMessage(detail: string, remote: boolean): ControlError {
    return new ControlError('CONTROL_BAD_MESSAGE', `malformed control message: ${detail}`, { remote })
  }

  /** Params that violate the method's schema: names the method, the parameter and the rule. */
  static badParams(
    method: string,
    issue: { path: PropertyKey[]; message: string } | undefined,
  ): ControlError {
    const name = issue?.path.map(String).join('.') || 'params'
    return new ControlError(
      'CONTROL_BAD_MESSAGE',
      `invalid ${method} request: ${name} ${issue?.message ?? 'is invalid'}`,
      { remote: true },
    )
  }

  /** A request bigger than the control API takes; refused before sending. */
  static tooLarge(method: string, bytes: number): ControlError {
    return new ControlError(
      'CONTROL_MESSAGE_TOO_LARGE',
      `the ${method} request is ${bytes} bytes; the control API takes at most ${CONTROL_MAX_MESSAGE_BYTES}`,
    )
  }

  /** The method name is not part of this protocol version. */
  static unknownMethod(method: string): ControlError {
    return new ControlError('CONTROL_UNKNOWN_METHOD', `unknown control method "${method}"`, { remote: true })
  }

  /** The server speaks another protocol version. */
  static versionMismatch(detail: string): ControlError {
    return new ControlError(
      'CONTROL_VERSION_MISMATCH',
      `the daemon speaks another control protocol (${detail}); restart it with this pairctl version`,
    )
  }

  /** The connection closed before an answer arrived. */
  static closed(): ControlError {
    return new ControlError('CONTROL_CLOSED', 'the daemon closed the control connection', { remote: true })
  }

  /** A remote error reconstructed from a response's `error` member. */
  static fromRemote(code: string, message: string): ControlError {
    return new ControlError(code, message, { remote: true })
  }
}
