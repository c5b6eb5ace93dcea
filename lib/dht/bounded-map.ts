/**
 * A Map that forgets its least recently written entry beyond `capacity`: every cache the DHT core
 * keeps about remote parties is one of these, so no peer can grow our memory (`spec/dht.md` §8.4).
 */
export class BoundedMap<K, V> {
  readonly #map = new Map<K, V>()
  readonly #capacity: number

  constructor(capacity: number) {
    this.#capacity = capacity
  }

  get size(): number {
    return this.#map.size
  }

  get(key: K): V | undefined {
    return this.#map.get(key)
  }

  has(key: K): boolean {
    return this.#map.has(key)
  }

  /** Writes `key` as the newest entry, evicting the oldest when over capacity. */
  set(key: K, value: V): void {
    this.#map.delete(key)
    this.#map.set(key, value)
    if (this.#map.size > this.#capacity) this.#map.delete(this.#map.keys().next().value as K)
  }

  delete(key: K): boolean {
    return this.#map.delete(key)
  }

  keys(): IterableIterator<K> {
    return this.#map.keys()
  }

  values(): IterableIterator<V> {
    return this.#map.values()
  }

  entries(): IterableIterator<[K, V]> {
    return this.#map.entries()
  }
}
