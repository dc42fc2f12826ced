/** A statement's deadline: `fire` runs if it is still listed when `due` passes. */
export interface Deadline {
  due: number
  fire: () => void
  prev: Deadline | undefined
  next: Deadline | undefined
  listed: boolean
}

/**
 * The deadlines of one executor's statements, `ms` after each starts, under one timer.
 *
 * Every statement gets the same `ms`, so the deadlines fall due in the order they were added:
 * a list kept in that order needs no sorting, adding and removing are O(1), and the one timer is
 * set for the head's deadline. A statement that answers leaves the list without touching the
 * timer; when the timer fires with a newer head, it is set again for that head. At one statement
 * at a time that is one timer per `ms` instead of a timer set and cleared per statement, whose
 * cost showed in single-connection latency (docs/architecture-drizzle.md, "The PostgreSQL pool").
 */
export class Deadlines {
  #head: Deadline | undefined
  #tail: Deadline | undefined
  #timer: ReturnType<typeof setTimeout> | undefined

  constructor(readonly ms: number) {}

  add(fire: () => void): Deadline {
    const d: Deadline = {
      due: performance.now() + this.ms,
      fire,
      prev: this.#tail,
      next: undefined,
      listed: true,
    }
    if (this.#tail) this.#tail.next = d
    else this.#head = d
    this.#tail = d
    if (this.#timer === undefined) this.#arm(this.ms)
    return d
  }

  /** Takes `d` off the list (a no-op once it is off). */
  remove(d: Deadline): void {
    if (!d.listed) return
    d.listed = false
    if (d.prev) d.prev.next = d.next
    else this.#head = d.next
    if (d.next) d.next.prev = d.prev
    else this.#tail = d.prev
    d.prev = undefined
    d.next = undefined
  }

  /** Deadlines still listed (for tests). */
  get size(): number {
    let n = 0
    for (let d = this.#head; d; d = d.next) n++
    return n
  }

  #arm(ms: number): void {
    this.#timer = setTimeout(this.#check, Math.max(1, Math.ceil(ms)))
    this.#timer.unref?.()
  }

  readonly #check = (): void => {
    this.#timer = undefined
    const now = performance.now()
    for (let d = this.#head; d !== undefined && d.due <= now; d = this.#head) {
      this.remove(d)
      d.fire()
    }
    if (this.#head) this.#arm(this.#head.due - now)
  }
}
