import type { DhtRecord } from './record.js'
import type { Contact } from './routing.js'

/**
 * Events a {@link DhtCore} emits through `nextEvent()` (`spec/dht.md` §6.5). Query events carry the
 * query id the starting call returned.
 */
export type DhtEvent =
  /**
   * The join finished (immediately for the first node of a network). `joined` is false when bootstrap
   * endpoints were given and none answered, after every retry (`spec/dht.md` §9).
   */
  | { type: 'bootstrapped'; joined: boolean }
  /** Verified records a GET lookup found; more may follow. */
  | { type: 'records'; query: number; records: DhtRecord[] }
  /** A FIND_NODE or GET lookup converged: the k closest nodes that replied, closest first. */
  | { type: 'queryDone'; query: number; closest: Contact[] }
  /** A PUT finished: how many of the closest nodes accepted the record. */
  | { type: 'putDone'; query: number; stored: number }
