/**
 * Runs a start-up task once. A failed attempt is forgotten, so the next call tries again: a
 * database that is down at start-up is picked up later without restarting the app.
 */
export class Ready {
  #done = false
  #pending: Promise<void> | undefined
  readonly #task: () => Promise<void>

  constructor(task: () => Promise<void>) {
    this.#task = task
  }

  get done(): boolean {
    return this.#done
  }

  run(): Promise<void> {
    if (this.#done) return Promise.resolve()
    this.#pending ??= this.#task().then(
      () => {
        this.#done = true
        this.#pending = undefined
      },
      (error: unknown) => {
        this.#pending = undefined
        throw error
      },
    )
    return this.#pending
  }

  /** The task's work was done another way (an explicit `ensureSchema()`). */
  markDone(): void {
    this.#done = true
  }
}
