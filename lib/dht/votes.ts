import { type Address, addressKey } from './address.js'
import { ADDRESS_VOTES, MIN_ADDRESS_VOTES } from './constants.js'

/**
 * Our external address by majority vote (`spec/dht.md` §4.3): every response carries `to`, our
 * endpoint as the responder saw it. One vote per responder group (the latest), the last
 * {@link ADDRESS_VOTES} groups kept; the winner needs {@link MIN_ADDRESS_VOTES} agreeing groups.
 */
export class AddressVotes {
  readonly #votes = new Map<string, Address>()

  /** Records `voter`'s view of our address. */
  vote(voter: string, seen: Address): void {
    this.#votes.delete(voter)
    this.#votes.set(voter, seen)
    if (this.#votes.size > ADDRESS_VOTES) this.#votes.delete(this.#votes.keys().next().value as string)
  }

  /** The address most voters agree on, or null without a qualified majority. */
  winner(): Address | null {
    const tally = new Map<string, { address: Address; count: number }>()
    for (const address of this.#votes.values()) {
      const entry = tally.get(addressKey(address)) ?? { address, count: 0 }
      entry.count++
      tally.set(addressKey(address), entry)
    }
    let best: { address: Address; count: number } | null = null
    for (const entry of tally.values()) if (best === null || entry.count > best.count) best = entry
    return best !== null && best.count >= MIN_ADDRESS_VOTES && 2 * best.count > this.#votes.size
      ? best.address
      : null
  }
}
