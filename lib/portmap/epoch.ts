/**
 * Gateway reboot detection from the epoch that NAT-PMP and PCP replies carry (RFC 6887 §8.5, same idea
 * as RFC 6886 §3.6): the server's seconds-since-start must advance like our clock, within 1/16 plus
 * 2 s; if it does not, the gateway lost its state and every mapping must be made again.
 */
export class EpochTracker {
  private last: { epoch: number; at: number } | undefined

  /** Records an epoch seen at `now` (ms); true when it shows that the gateway lost its mappings. */
  observe(epoch: number, now: number): boolean {
    const previous = this.last
    this.last = { epoch, at: now }
    if (!previous) return false
    if (epoch + 1 < previous.epoch) return true
    const clientDelta = (now - previous.at) / 1000
    const serverDelta = epoch - previous.epoch
    return (
      clientDelta + 2 < serverDelta - serverDelta / 16 || serverDelta + 2 < clientDelta - clientDelta / 16
    )
  }
}
