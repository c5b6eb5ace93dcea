import { PairctlError } from '../errors.js'

/** Every stable error code of `lib/transfer` (`spec/transfer.md` §9). */
export const TRANSFER_ERROR_CODES = [
  'STREAM_PROTOCOL',
  'STREAM_FLOW_VIOLATION',
  'STREAM_TIMEOUT',
  'STREAM_LINK_CLOSED',
  'STREAM_RESET',
  'STREAM_REMOTE',
  'MESSAGE_UNDELIVERED',
  'TRANSFER_BAD_PATH',
  'TRANSFER_BAD_OFFER',
  'TRANSFER_NOT_FOUND',
  'TRANSFER_REJECTED',
  'TRANSFER_CANCELLED',
  'TRANSFER_SOURCE_CHANGED',
  'TRANSFER_DISK_FULL',
  'TRANSFER_IO',
  'TRANSFER_NOT_PAIRED',
  'TRANSFER_UNREQUESTED',
  'TRANSFER_STATE_CORRUPT',
] as const

/** A code of `lib/transfer`. */
export type TransferErrorCode = (typeof TRANSFER_ERROR_CODES)[number]

/** Errors of streams on the link and of file transfers (`spec/transfer.md` §9). */
export class TransferError extends PairctlError {
  declare readonly code: TransferErrorCode

  constructor(code: TransferErrorCode, message: string, options: { cause?: unknown; remote?: boolean } = {}) {
    super(code, message, options)
  }

  static protocol(message: string): TransferError {
    return new TransferError('STREAM_PROTOCOL', `stream protocol violation: ${message}`, { remote: true })
  }

  static flow(stream: number, excess: number): TransferError {
    return new TransferError(
      'STREAM_FLOW_VIOLATION',
      `the peer sent ${excess} bytes beyond the credit of stream ${stream}`,
      { remote: true },
    )
  }

  static timeout(kind: string, ms: number): TransferError {
    return new TransferError('STREAM_TIMEOUT', `no answer to ${kind} within ${ms} ms`, { remote: true })
  }

  static linkClosed(): TransferError {
    return new TransferError('STREAM_LINK_CLOSED', 'the link to the device closed', { remote: true })
  }

  static linkSilent(): TransferError {
    return new TransferError(
      'STREAM_LINK_CLOSED',
      'the link to the device went silent: a request got no answer and nothing else arrived',
      { remote: true },
    )
  }

  static badPath(path: string, why: string): TransferError {
    return new TransferError('TRANSFER_BAD_PATH', `refusing path ${JSON.stringify(path)}: ${why}`, {
      remote: true,
    })
  }

  static notFound(id: string): TransferError {
    return new TransferError('TRANSFER_NOT_FOUND', `no transfer ${id}; list them with: pairctl transfers`)
  }
}

/** Turns an error a peer reported (`code`, `message`) into a typed error; unknown codes are `STREAM_REMOTE`. */
export function remoteError(code: string, message: string): TransferError {
  const known = (TRANSFER_ERROR_CODES as readonly string[]).includes(code)
  return new TransferError(known ? (code as TransferErrorCode) : 'STREAM_REMOTE', `peer: ${message}`, {
    remote: true,
  })
}
