import { type Address, decodeAddress } from './address.js'
import { ADDRESS_VOTES, MIN_ADDRESS_VOTES } from './constants.js'
import { type ByteText, bytesOf, endpointText } from './endpoint.js'

/**
 * Our external address by majority vote (`spec/dht.md` §4.3): every response carries `to`, our
 * endpoint as the responder saw it. One vote per responder group (the latest), the last
 * {@link ADDRESS_VOTES} groups kept; the winner needs {@link MIN_ADDRESS_VOTES} agreeing groups.
 * Two short parallel arrays of strings, oldest first: a Map of address objects cost 2 KB per node.
 */
export class AddressVotes {
  readonly #voters: string[] = []
  /** The endpoint each voter saw us at, compact (§3.1) as text. */
  readonly #seen: ByteText[] = []

  /** Records `voter`'s view of our address. */
  vote(voter: string, seen: Address): void {
    const index = this.#voters.indexOf(voter)
    if (index >= 0) {
      this.#voters.splice(index, 1)
      this.#seen.splice(index, 1)
    }
    this.#voters.push(voter)
    this.#seen.push(endpointText(seen))
    if (this.#voters.length > ADDRESS_VOTES) {
      this.#voters.shift()
      this.#seen.shift()
    }
  }

  /** The address most voters agree on, or null without a qualified majority (a tie never has one). */
  winner(): Address | null {
    const tally = new Map<ByteText, number>()
    let best: ByteText | null = null
    let bestCount = 0
    for (const seen of this.#seen) {
      const count = (tally.get(seen) ?? 0) + 1
      tally.set(seen, count)
      if (count > bestCount) [best, bestCount] = [seen, count]
    }
    if (best === null || bestCount < MIN_ADDRESS_VOTES || 2 * bestCount <= this.#seen.length) return null
    return decodeAddress(bytesOf(best))
  }
}
