import { REQUEST_DEADLINE_MS, RETRY_SCHEDULE_MS } from './constants.js'

/**
 * Sans-I/O request/response exchange over UDP with retransmission (spec/portmap.md §6), shared by
 * NAT-PMP, PCP and SSDP. The caller feeds datagrams and time; the core says what to send and when it
 * is done. Datagrams the decoder rejects are dropped and counted, never thrown.
 *
 * Deviation: RFC 6886 §3.1 retries 9 times from 250 ms (about 64 s) and RFC 6887 §8.1.1 starts at
 * 3 s; a port mapper that probes several methods cannot wait that long, so all three use
 * `RETRY_SCHEDULE_MS` and give up after `REQUEST_DEADLINE_MS`.
 */

/** Where a datagram came from. */
export interface Peer {
  address: string
  port: number
}

/** What the transaction produced. */
export type TransactionEvent<T> = { type: 'response'; value: T } | { type: 'timeout' }

/** One exchange: send `requests` on each step of the schedule until `decode` accepts a reply. */
export class RequestTransaction<T> {
  /** Datagrams received that did not decode to an acceptable reply. */
  dropped = 0
  private readonly sendTimes: number[]
  private readonly deadline: number
  private queue: Uint8Array[] = []
  private event: TransactionEvent<T> | null = null

  constructor(
    private readonly requests: readonly Uint8Array[],
    private readonly decode: (bytes: Uint8Array, from: Peer) => T | null,
    now: number,
    schedule: readonly number[] = RETRY_SCHEDULE_MS,
    deadlineMs = REQUEST_DEADLINE_MS,
  ) {
    this.sendTimes = schedule.map((offset) => now + offset)
    this.deadline = now + deadlineMs
  }

  /** Next datagram to send now, or `null`. */
  pollTransmit(now: number): Uint8Array | null {
    if (this.event) return null
    while (this.sendTimes.length > 0 && this.sendTimes[0]! <= now) {
      this.sendTimes.shift()
      this.queue.push(...this.requests)
    }
    return this.queue.shift() ?? null
  }

  /** When {@link handleTimeout} must next run, or `null` once finished. */
  pollTimeout(): number | null {
    return this.event ? null : Math.min(this.sendTimes[0] ?? this.deadline, this.deadline)
  }

  /** Advances time: past the deadline the transaction ends with a timeout. */
  handleTimeout(now: number): void {
    if (!this.event && now >= this.deadline) this.event = { type: 'timeout' }
  }

  /** Feeds a received datagram. */
  receive(bytes: Uint8Array, from: Peer, _now: number): void {
    if (this.event) return
    const value = this.decode(bytes, from)
    if (value === null) this.dropped++
    else this.event = { type: 'response', value }
  }

  /** The outcome, once there is one. */
  nextEvent(): TransactionEvent<T> | null {
    return this.event
  }
}
