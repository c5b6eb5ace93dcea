/**
 * Bounds on connections that have not proved anything yet (`spec/pairing.md` §4.1): a listener holds at
 * most `limit` of them, at most `perSource` from one source address. A newcomer over either bound evicts
 * the oldest connection of its source (per-source bound) or of all (global bound) instead of being
 * refused, so a flood of silent sockets only ever displaces the flooder's own older sockets and the
 * oldest strangers, never the next legitimate connection.
 * @module
 */

/** A connection that can be dropped. */
export interface Evictable {
  destroy(): void
}

/** The connections waiting for their preamble, handshake or first message, oldest first. */
export class PendingConnections<C extends Evictable = Evictable> {
  /** Insertion order is age order. */
  readonly #sources = new Map<C, string>()

  constructor(
    readonly limit: number,
    readonly perSource: number,
  ) {}

  /** Connections pending now. */
  get size(): number {
    return this.#sources.size
  }

  /** Adds `connection` from `source`, first evicting (destroying) whatever the bounds require. */
  admit(connection: C, source: string): void {
    const same = [...this.#sources].filter(([, from]) => from === source).map(([c]) => c)
    if (same.length >= this.perSource) this.#evict(same[0]!)
    else if (this.#sources.size >= this.limit) this.#evict(this.#sources.keys().next().value as C)
    this.#sources.set(connection, source)
  }

  /** The connection proved itself or ended: no longer counted. False if it had been evicted. */
  settle(connection: C): boolean {
    return this.#sources.delete(connection)
  }

  #evict(connection: C): void {
    this.#sources.delete(connection)
    connection.destroy()
  }
}

/** The unit a per-source bound counts: the peer's IP address when the stream is a socket. */
export function sourceOf(stream: object, fallback: string): string {
  const address = (stream as { remoteAddress?: unknown }).remoteAddress
  return typeof address === 'string' ? address : fallback
}
