/**
 * A push-to-pull bridge from core events to an async iterator: the adapter pushes values as events
 * arrive, the caller pulls them with `for await`. Ending early (break/return) runs `onCancel`.
 */
export class EventChannel<T> implements AsyncIterableIterator<T> {
  readonly #items: T[] = []
  #waiter: { resolve: (result: IteratorResult<T>) => void; reject: (error: unknown) => void } | null = null
  #ended = false
  #error: unknown = null
  readonly #onCancel: () => void

  constructor(onCancel: () => void) {
    this.#onCancel = onCancel
  }

  /** Queues a value (ignored once ended). */
  push(item: T): void {
    if (this.#ended) return
    if (this.#waiter === null) this.#items.push(item)
    else this.#take().resolve({ value: item, done: false })
  }

  /** Ends the stream normally, or with `error` (after the queued values are consumed). */
  end(error: unknown = null): void {
    if (this.#ended) return
    this.#ended = true
    this.#error = error
    if (this.#waiter !== null && error !== null) this.#take().reject(error)
    else if (this.#waiter !== null) this.#take().resolve({ value: undefined, done: true })
  }

  next(): Promise<IteratorResult<T>> {
    if (this.#items.length > 0) return Promise.resolve({ value: this.#items.shift()!, done: false })
    if (this.#ended) return this.#error === null ? Promise.resolve(done()) : Promise.reject(this.#error)
    return new Promise((resolve, reject) => {
      this.#waiter = { resolve, reject }
    })
  }

  return(): Promise<IteratorResult<T>> {
    if (!this.#ended) this.#onCancel()
    this.#ended = true
    this.#items.length = 0
    return Promise.resolve(done())
  }

  [Symbol.asyncIterator](): AsyncIterableIterator<T> {
    return this
  }

  #take() {
    const waiter = this.#waiter!
    this.#waiter = null
    return waiter
  }
}

function done<T>(): IteratorResult<T> {
  return { value: undefined, done: true }
}
