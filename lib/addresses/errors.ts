import { PairctlError } from '../errors.js'

/** Errors of `lib/addresses` (`spec/addresses.md` §6). */
export class AddressError extends PairctlError {
  /** A candidate that cannot be advertised truthfully: port 0, not an IP literal, unusable range. */
  static invalid(reason: string): AddressError {
    return new AddressError('ADDRESSES_INVALID', reason)
  }
}
