/**
 * An unbounded single-consumer queue that is also an async iterator: producers `push`, the consumer
 * `for await`s; `end()` finishes the iteration, `end(err)` makes it throw. Used for event streams.
 */
export class AsyncQueue<T> implements AsyncIterableIterator<T> {
  private readonly items: T[] = []
  private waiter: ((result: IteratorResult<T>) => void) | null = null
  private failer: ((err: unknown) => void) | null = null
  private ended = false
  private failure: unknown = undefined

  /** `onEnd` runs once when the stream ends, by `end()` or by the consumer leaving. */
  constructor(private readonly onEnd?: () => void) {}

  /** Adds an item; ignored after `end`. */
  push(item: T): void {
    if (this.ended) return
    if (this.waiter === null) this.items.push(item)
    else this.settle().resolve({ value: item, done: false })
  }

  /** Ends the stream, after the queued items, with `err` thrown to the consumer when given. */
  end(err?: unknown): void {
    if (this.ended) return
    this.ended = true
    this.failure = err
    this.onEnd?.()
    if (this.waiter === null) return
    const { resolve, reject } = this.settle()
    if (err === undefined) resolve({ value: undefined, done: true })
    else reject(err)
  }

  next(): Promise<IteratorResult<T>> {
    if (this.items.length > 0) return Promise.resolve({ value: this.items.shift() as T, done: false })
    if (this.ended) return this.failure === undefined ? Promise.resolve(done()) : Promise.reject(this.failure)
    return new Promise((resolve, reject) => {
      this.waiter = resolve
      this.failer = reject
    })
  }

  /** Called by `break` in a `for await`: the consumer is gone, drop everything. */
  return(): Promise<IteratorResult<T>> {
    this.items.length = 0
    this.end()
    return Promise.resolve(done())
  }

  [Symbol.asyncIterator](): AsyncIterableIterator<T> {
    return this
  }

  private settle() {
    const resolve = this.waiter!
    const reject = this.failer!
    this.waiter = null
    this.failer = null
    return { resolve, reject }
  }
}

function done<T>(): IteratorResult<T> {
  return { value: undefined, done: true }
}
