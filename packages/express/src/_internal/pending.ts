/**
 * A bounded, short-lived map: entries leave when taken, when older than `ttl`, or oldest-first
 * when more than `limit` are held. It never grows without bound, whatever requests do.
 */
export class Pending<V> {
  readonly #entries = new Map<string, { value: V; at: number }>()

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
    this.#entries.set(token, { value, at: Date.now() })
    while (this.#entries.size > this.limit) {
      const oldest = this.#entries.keys().next().value as string
      const e = this.#entries.get(oldest)
      this.#entries.delete(oldest)
      if (e) this.onDrop(e.value)
    }
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
