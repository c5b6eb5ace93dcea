import { PairctlError } from '../errors.js'

/** Errors of `lib/presence` (`spec/presence.md` §8). */
export class PresenceError extends PairctlError {
  /** A presence record that does not decode or fails its schema (skipped by lookups). */
  static badRecord(detail: string, cause?: unknown): PresenceError {
    return new PresenceError('PRESENCE_BAD_RECORD', `invalid presence record: ${detail}`, {
      cause,
      remote: true,
    })
  }

  /** No live presence record of the device in the DHT (offline, or withdrawn). */
  static notFound(deviceId: string): PresenceError {
    return new PresenceError('PRESENCE_NOT_FOUND', `no presence record of ${deviceId}`, { remote: true })
  }

  /** A reconnect from a device that is not paired with this one: refused after the handshake. */
  static notPaired(deviceId: string): PresenceError {
    return new PresenceError('PRESENCE_NOT_PAIRED', `${deviceId} is not a paired device`, { remote: true })
  }

  /** A link message that does not decode, or a `hello` that did not come in time. */
  static protocol(detail: string, cause?: unknown): PresenceError {
    return new PresenceError('PRESENCE_PROTOCOL', `link protocol violation: ${detail}`, {
      cause,
      remote: true,
    })
  }

  /** The peer's link is not open (`send` to an offline device). */
  static offline(deviceId: string): PresenceError {
    return new PresenceError('PRESENCE_OFFLINE', `${deviceId} is not online; try again when it is`)
  }

  /** Local misuse: a record that cannot be encoded (no address, too large). */
  static badOption(message: string): PresenceError {
    return new PresenceError('PRESENCE_BAD_OPTION', message)
  }
}
