import { performance } from 'node:perf_hooks'

/** At most this many keys are remembered; the least recently marked go first. */
const MAX_KEYS = 10_000

/**
 * Which sessions are hot in this process: a key is hot for `cooldown` ms after the last sign of
 * contention (a save that met a concurrent writer, a load that had to wait for the lease). Kept
 * per process, in memory: it only decides whether a load takes the lease, never what is stored,
 * so a process that has not seen the contention yet is still correct, just not serialised.
 */
export class HotKeys {
  readonly #until = new Map<string, number>()
  readonly #cooldown: number

  constructor(cooldown: number) {
    this.#cooldown = cooldown
  }

  /** Whether any key may be hot: the cold path's only cost. */
  get any(): boolean {
    return this.#until.size > 0
  }

  has(key: string): boolean {
    const until = this.#until.get(key)
    if (until === undefined) return false
    if (until > performance.now()) return true
    this.#until.delete(key)
    return false
  }

  mark(key: string): void {
    // Deleted first so that the map's order stays the order of the last marks.
    this.#until.delete(key)
    this.#until.set(key, performance.now() + this.#cooldown)
    if (this.#until.size > MAX_KEYS) {
      const oldest = this.#until.keys().next().value
      if (oldest !== undefined) this.#until.delete(oldest)
    }
  }
}
