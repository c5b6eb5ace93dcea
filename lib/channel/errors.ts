import { PairctlError } from '../errors.js'

/** Errors of `lib/channel` (`spec/noise.md` §8). Noise failures keep their `NOISE_*` codes. */
export class ChannelError extends PairctlError {
  /** A frame longer than the phase allows (handshake frames: MAX_HANDSHAKE_FRAME). */
  static frameTooLarge(length: number, max: number): ChannelError {
    return new ChannelError('CHANNEL_FRAME_TOO_LARGE', `frame of ${length} bytes exceeds ${max}`, {
      remote: true,
    })
  }

  /** A frame too short to be a transport message, an unknown frame type, or data after the peer's close. */
  static protocol(detail: string): ChannelError {
    return new ChannelError('CHANNEL_PROTOCOL_ERROR', `channel protocol violation: ${detail}`, {
      remote: true,
    })
  }

  /** The handshake did not finish within its timeout (a stalled or silent peer). */
  static handshakeTimeout(ms: number): ChannelError {
    return new ChannelError('CHANNEL_HANDSHAKE_TIMEOUT', `handshake did not finish within ${ms} ms`, {
      remote: true,
    })
  }

  /** Nothing arrived from the peer within the idle timeout. */
  static idleTimeout(ms: number): ChannelError {
    return new ChannelError('CHANNEL_IDLE_TIMEOUT', `no frame from the peer for ${ms} ms`, { remote: true })
  }

  /** The connection ended during the handshake, or the channel is already closed. */
  static closed(detail: string, remote: boolean): ChannelError {
    if (remote) return withoutStack(() => new ChannelError('CHANNEL_CLOSED', detail, { remote }))
    return new ChannelError('CHANNEL_CLOSED', detail, { remote })
  }

  /** The byte stream ended without an authenticated close frame (possible truncation attack). */
  static truncated(): ChannelError {
    const message = 'connection ended without an authenticated close'
    return withoutStack(() => new ChannelError('CHANNEL_TRUNCATED', message, { remote: true }))
  }

  /** A message over MAX_MESSAGE_LENGTH given to send(). */
  static messageTooLarge(length: number, max: number): ChannelError {
    return new ChannelError('CHANNEL_MESSAGE_TOO_LARGE', `message of ${length} bytes exceeds ${max}`)
  }

  /** The caller's AbortSignal fired. */
  static aborted(cause?: unknown): ChannelError {
    return new ChannelError('CHANNEL_ABORTED', 'channel aborted', { cause })
  }

  /** The underlying stream failed (socket error). */
  static io(cause: unknown): ChannelError {
    return new ChannelError('CHANNEL_IO', `connection failed: ${String(cause)}`, { cause, remote: true })
  }

  /** Local misuse: mixing the message and stream APIs. */
  static misuse(detail: string): ChannelError {
    return new ChannelError('CHANNEL_MISUSE', detail)
  }
}

/**
 * Builds a teardown error caused by the peer (it hung up) without a stack trace: every dropped connection
 * makes one, its stack would only show the event loop delivering the FIN, and the streams the error is
 * destroyed with format `err.stack` at once (~0.2 ms a connection under source maps).
 */
function withoutStack(make: () => ChannelError): ChannelError {
  // Frozen intrinsics (node --frozen-intrinsics) make the limit read-only: keep the stack then.
  if (!Object.getOwnPropertyDescriptor(Error, 'stackTraceLimit')?.writable) return make()
  const limit = Error.stackTraceLimit
  Error.stackTraceLimit = 0
  try {
    return make()
  } finally {
    Error.stackTraceLimit = limit
  }
}
