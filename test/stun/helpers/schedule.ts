import type { ClientTransaction } from '../../../lib/stun/index.js'

/**
 * Runs a transaction's virtual clock, from 0, until it finishes with no response: the send times, then
 * the time it failed.
 */
export function runToEnd(tx: ClientTransaction): number[] {
  const times: number[] = []
  let now = 0
  while (!tx.done) {
    while (tx.pollTransmit(now)) times.push(now)
    tx.handleTimeout(now)
    if (!tx.done) now = tx.pollTimeout() ?? now
  }
  return [...times, now]
}
