/**
 * A bounded, short-lived map: entries leave when taken, when older than `ttl`, or oldest-first
 * when more than `limit` are held. It never grows without bound, whatever requests do.
 */
export class Pending<V> {
  readonly #entries = new Map<string, Entry<V>>()
  // Entries in the order they were put, for oldest-first eviction. Finding the oldest with
  // `keys().next()` instead walks every slot V8 keeps for deleted keys until it rehashes the Map:
  // with the map full (the steady state of a busy app, whose saves leave their entries behind)
  // that cost about 10 µs per put. Taken and replaced entries stay here until passed or compacted.
  #order: Entry<V>[] = []
  #head = 0

  constructor(
    readonly limit: number,
    readonly ttl: number,
    /** Called with each entry that leaves without being taken (too old, or over the limit). */
    readonly onDrop: (value: V) => void = () => {},
  ) {}

  get size(): number {
    return this.#entries.size
  }

  put(token: string, value: V): void {
    const at = Date.now()
    const entry = { token, value, at }
    this.#entries.set(token, entry)
    this.#order.push(entry)
    // Oldest first: entries past their ttl leave now, not only when something looks them up (what
    // a request never came back for is not kept alive until the map is full), then more while
    // over the limit. Every entry still held is in #order past #head, taken ones are skipped.
    for (;;) {
      const oldest = this.#order[this.#head]
      if (!oldest || (at - oldest.at <= this.ttl && this.#entries.size <= this.limit)) break
      this.#head++
      if (this.#entries.get(oldest.token) !== oldest) continue
      this.#entries.delete(oldest.token)
      this.onDrop(oldest.value)
    }
    this.#compact()
  }

  // Keeps #order within about twice the entries held, whatever mix of puts and takes happens.
  #compact(): void {
    const order = this.#order
    if (order.length - this.#head <= 2 * this.#entries.size + 64) {
      if (this.#head > 1024 && this.#head * 2 > order.length) {
        this.#order = order.slice(this.#head)
        this.#head = 0
      }
      return
    }
    this.#order = order.slice(this.#head).filter((e) => this.#entries.get(e.token) === e)
    this.#head = 0
  }

  get(token: string): V | undefined {
    const e = this.#entries.get(token)
    if (!e) return undefined
    if (Date.now() - e.at > this.ttl) {
      this.#entries.delete(token)
      this.onDrop(e.value)
      return undefined
    }
    return e.value
  }

  take(token: string): V | undefined {
    const v = this.get(token)
    this.#entries.delete(token)
    return v
  }
}

interface Entry<V> {
  token: string
  value: V
  at: number
}
