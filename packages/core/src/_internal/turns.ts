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

  get size(): number {
    return this.#tails.size
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
    const end = (): void => {
      if (ended) return
      ended = true
      if (timer) clearTimeout(timer)
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
