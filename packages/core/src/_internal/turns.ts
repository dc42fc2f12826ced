/**
 * One holder per key at a time inside this process, first come first served. The serialised mode
 * queues a process's own requests for a session here, so only the head of each queue asks the
 * database for the row's lease; the others wait on a promise instead of polling.
 *
 * A turn ends when its holder releases it or after `hold` ms, whichever is first, so a request
 * that never finishes cannot block the queue for longer than the lease it would hold.
 */
export class Turns {
  readonly #tails = new Map<string, Promise<void>>()
  /** Requests of each key holding or waiting for its turn. */
  readonly #count = new Map<string, number>()

  get size(): number {
    return this.#tails.size
  }

  /** Whether a request of this process holds or waits for the key's turn. */
  busy(key: string): boolean {
    return this.#count.has(key)
  }

  /** Whether a request of this process waits for the key's turn behind its holder. */
  waiting(key: string): boolean {
    return (this.#count.get(key) ?? 0) > 1
  }

  /**
   * Wait for this key's turn, at most `wait` ms. Resolves to the release function, or `null`
   * when the wait ran out (the caller's place in the queue is given up at once).
   */
  async enter(key: string, wait: number, hold: number): Promise<(() => void) | null> {
    const previous = this.#tails.get(key)
    let done!: () => void
    const mine = new Promise<void>((resolve) => {
      done = resolve
    })
    let timer: NodeJS.Timeout | undefined
    let ended = false
    this.#count.set(key, (this.#count.get(key) ?? 0) + 1)
    const end = (): void => {
      if (ended) return
      ended = true
      if (timer) clearTimeout(timer)
      const n = (this.#count.get(key) ?? 1) - 1
      if (n > 0) this.#count.set(key, n)
      else this.#count.delete(key)
      done()
    }
    const tail = previous ? previous.then(() => mine) : mine
    this.#tails.set(key, tail)
    void tail.then(() => {
      if (this.#tails.get(key) === tail) this.#tails.delete(key)
    })
    if (previous) {
      let waitTimer: NodeJS.Timeout | undefined
      const arrived = await Promise.race([
        previous.then(() => true),
        new Promise<boolean>((resolve) => {
          waitTimer = setTimeout(() => resolve(false), wait)
        }),
      ])
      clearTimeout(waitTimer)
      if (!arrived) {
        end()
        return null
      }
    }
    timer = setTimeout(end, hold)
    timer.unref?.()
    return end
  }
}
