/**
 * The one error shape of pairctl: every error thrown or emitted by the library is a
 * {@link PairctlError} subclass with a stable string `code` (registry: `spec/README.md` §Errors).
 *
 * `remote` tells the two kinds apart, as h11 does with Local/RemoteProtocolError:
 * `false` for local misuse or local conditions, `true` when the peer (or the network) violated
 * the protocol. Callers switch on `code`, never on `message`.
 */
export class PairctlError extends Error {
  readonly code: string
  readonly remote: boolean

  constructor(code: string, message: string, options: { cause?: unknown; remote?: boolean } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause })
    this.name = new.target.name
    this.code = code
    this.remote = options.remote ?? false
  }
}

/** True when `err` is a {@link PairctlError} with the given `code`. */
export function hasCode(err: unknown, code: string): err is PairctlError {
  return err instanceof PairctlError && err.code === code
}
