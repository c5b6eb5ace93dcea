import type { PairingEvent } from './types.js'

/**
 * The event log of one pairing: every reader gets all events from the start, then each new one, until
 * the log ends. Unbounded by design: a pairing emits at most a dozen events.
 */
export class EventLog implements AsyncIterable<PairingEvent> {
  readonly #events: PairingEvent[] = []
  readonly #waiters = new Set<() => void>()
  #ended = false

  /** Appends an event; ignored once ended. */
  push(event: PairingEvent): void {
    if (this.#ended) return
    this.#events.push(event)
    this.#wake()
  }

  /** Ends the log; readers finish after the last event. */
  end(): void {
    this.#ended = true
    this.#wake()
  }

  async *[Symbol.asyncIterator](): AsyncIterator<PairingEvent> {
    for (let next = 0; ; next++) {
      while (next >= this.#events.length) {
        if (this.#ended) return
        await new Promise<void>((resolve) => this.#waiters.add(resolve))
      }
      yield this.#events[next]!
    }
  }

  #wake(): void {
    for (const resolve of this.#waiters) resolve()
    this.#waiters.clear()
  }
}
