import { PairctlError } from '../errors.js'

/**
 * The one error class of `lib/dht` (`spec/dht.md` §10). Codes: `DHT_ABORTED`,
 * `DHT_CLOSED`, `DHT_BAD_ARGUMENT`, `DHT_NOT_STORED`, `DHT_BAD_TABLE`, `DHT_BIND_FAILED`,
 * `DHT_BOOTSTRAP_FAILED`.
 */
export class DhtError extends PairctlError {
  /** The operation was cancelled through its AbortSignal. */
  static aborted(cause?: unknown): DhtError {
    return new DhtError('DHT_ABORTED', 'DHT operation aborted', { cause })
  }

  /** The node was closed while the operation ran, or before it started. */
  static closed(): DhtError {
    return new DhtError('DHT_CLOSED', 'DHT node is closed')
  }

  /** Local misuse: a wrong-size key, an unknown namespace, a TTL over the namespace clamp... */
  static badArgument(message: string): DhtError {
    return new DhtError('DHT_BAD_ARGUMENT', message)
  }

  /** A PUT reached no storing node (the network did not accept the record anywhere). */
  static notStored(): DhtError {
    return new DhtError('DHT_NOT_STORED', 'no node stored the record', { remote: true })
  }

  /** A saved routing table failed validation on load. */
  static badTable(cause: unknown): DhtError {
    return new DhtError('DHT_BAD_TABLE', 'saved routing table is invalid', { cause })
  }

  /** No bootstrap (or saved-table) node answered the join, after every retry (`spec/dht.md` §9). */
  static bootstrapFailed(): DhtError {
    return new DhtError('DHT_BOOTSTRAP_FAILED', 'no bootstrap node answered the join', { remote: true })
  }

  /** The UDP socket could not be bound. */
  static bindFailed(cause: unknown): DhtError {
    const { address, port, code } = (cause ?? {}) as NodeJS.ErrnoException & {
      address?: string
      port?: number
    }
    const where =
      address === undefined ? '' : ` to UDP ${address.includes(':') ? `[${address}]` : address}:${port}`
    return new DhtError(
      'DHT_BIND_FAILED',
      `could not bind the DHT socket${where}: ${bindReason(code, cause)}`,
      {
        cause,
      },
    )
  }
}

/** Why a bind failed, in plain words. */
function bindReason(code: string | undefined, cause: unknown): string {
  if (code === 'EADDRINUSE') return 'the port is already in use by another program (EADDRINUSE)'
  if (code === 'EACCES') return 'permission denied; ports below 1024 need privileges (EACCES)'
  if (code === 'EADDRNOTAVAIL') return 'this machine has no such address (EADDRNOTAVAIL)'
  return cause instanceof Error ? cause.message : String(cause)
}
