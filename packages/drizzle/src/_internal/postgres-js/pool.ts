import type { Sql } from 'postgres'
import type { Row } from '../rows.js'
import { cancelSafely, type Statement } from './statement.js'

interface Job {
  text: string
  params: unknown[]
  resolve: (rows: Row[]) => void
  reject: (error: unknown) => void
  running: Statement | undefined
  cancelled: boolean
}

/** Statements a connection runs back to back (pipelined) before it is left to go idle once. */
const DRAIN_EVERY = 1000
/** How often idle connections are looked for: one idle for a whole period is ended. */
export const IDLE_MS = 30_000
/** Statements in flight on one connection at most (postgres.js's own pipeline limit). */
export const PIPELINE = 100

/**
 * The pool `pgStore` opens from a URL: `max` postgres.js clients of one connection each. A
 * statement goes to the lowest idle connection, else is pipelined onto the least busy one (up to
 * `PIPELINE` deep), as postgres.js does itself; a connection that has run `DRAIN_EVERY` statements without ever being
 * idle gets no new ones until it is (the others take them, or they wait in a FIFO here).
 *
 * Why not one postgres.js client with `max` connections: it keeps its connections (and each
 * connection its pipelined statements) in array queues that hand a slot back only when the queue
 * empties completely. Under steady load one never does (some connection is always idle, or all
 * are always busy), so the heap grows with every statement for as long as the load lasts
 * (docs/architecture-drizzle.md, "The PostgreSQL pool").
 * A client of one connection empties its pool queues on every statement, and its connection's
 * pipeline queue empties whenever the connection goes idle, which the drain rule guarantees.
 */
export class PostgresPool {
  readonly #make: () => Sql
  readonly #clients: (Sql | undefined)[]
  readonly #inFlight: number[]
  readonly #sinceIdle: number[]
  readonly #draining: boolean[]
  /** Statements each slot has started, and the count the last idle check saw. */
  readonly #started: number[]
  readonly #seen: number[]
  readonly #idleCheck: ReturnType<typeof setInterval>
  #waiting: (Job | undefined)[] = []
  #head = 0

  constructor(make: () => Sql, max: number, first?: Sql, idleMs = IDLE_MS) {
    this.#make = make
    this.#clients = new Array(max).fill(undefined)
    this.#clients[0] = first
    this.#inFlight = new Array(max).fill(0)
    this.#sinceIdle = new Array(max).fill(0)
    this.#draining = new Array(max).fill(false)
    this.#started = new Array(max).fill(0)
    this.#seen = new Array(max).fill(0)
    // One timer for every slot, instead of postgres.js's idle_timeout, which sets and clears a
    // timer each time a connection goes idle: at one statement at a time, once per statement.
    this.#idleCheck = setInterval(this.#closeIdle, idleMs)
    this.#idleCheck.unref?.()
  }

  /**
   * Ends the connections that started no statement since the last check and have none in
   * flight: idle for between one and two check periods. The slot opens a new one when needed.
   */
  readonly #closeIdle = (): void => {
    for (let i = 0; i < this.#clients.length; i++) {
      const client = this.#clients[i]
      const started = this.#started[i] as number
      if (client && this.#inFlight[i] === 0 && started === this.#seen[i]) {
        this.#clients[i] = undefined
        client.end({ timeout: 5 }).catch(() => {})
      }
      this.#seen[i] = started
    }
  }

  /** Connections open now (for tests). */
  get open(): number {
    return this.#clients.filter((c) => c !== undefined).length
  }

  query(text: string, params: unknown[]): Statement {
    // A free slot takes the statement at once: no job, no promise of its own.
    const slot = this.#pick()
    if (slot >= 0) return this.#start(slot, text, params)
    const job: Job = {
      text,
      params,
      resolve: () => {},
      reject: () => {},
      running: undefined,
      cancelled: false,
    }
    const promise = new Promise<Row[]>((resolve, reject) => {
      job.resolve = resolve
      job.reject = reject
    })
    this.#waiting.push(job)
    return Object.assign(promise, {
      cancel: (): boolean => {
        if (job.running) return job.running.cancel()
        // Still waiting here: never sent, so it fails at once and is dropped when its turn comes.
        job.cancelled = true
        job.reject(Object.assign(new Error('cancelled before it was sent'), { code: 'CANCELLED' }))
        return true
      },
      abandon: (): void => job.running?.abandon?.(),
    })
  }

  /** The lowest idle slot (connections open only as concurrency needs them), else the least busy. */
  #pick(): number {
    let best = -1
    for (let i = 0; i < this.#inFlight.length; i++) {
      const n = this.#inFlight[i] as number
      if (this.#draining[i] || n >= PIPELINE) continue
      if (n === 0) return i
      if (best < 0 || n < (this.#inFlight[best] as number)) best = i
    }
    return best
  }

  #start(slot: number, text: string, params: unknown[]): Statement {
    this.#inFlight[slot] = (this.#inFlight[slot] as number) + 1
    this.#started[slot] = (this.#started[slot] as number) + 1
    const client = this.#clients[slot] ?? this.#open(slot)
    const q = client.unsafe(text, params as never[], { prepare: true })
    // postgres.js sends a statement when it is first awaited (its then() is a plain Promise's).
    const out = q.then(
      (rows) => {
        this.#done(slot)
        return rows as unknown as Row[]
      },
      (error: unknown) => {
        this.#done(slot)
        throw error
      },
    ) as Statement
    out.cancel = () => cancelSafely(q)
    out.abandon = () => this.#abandon(slot, client)
    return out
  }

  #open(slot: number): Sql {
    const client = this.#make()
    this.#clients[slot] = client
    return client
  }

  /**
   * Gives up on a connection's connection (a statement on it outlived its deadline and the grace after
   * its cancel): its statements fail at once (CONNECTION_DESTROYED, which the store retries), so
   * none of them runs later, and the connection's next statement opens a new one. A connection that
   * stopped answering would otherwise keep every statement pipelined onto it hanging until the
   * operating system gives up on the socket.
   */
  #abandon(slot: number, client: Sql): void {
    if (this.#clients[slot] === client) this.#clients[slot] = undefined
    client.end({ timeout: 0 }).catch(() => {})
  }

  #done(slot: number): void {
    const left = (this.#inFlight[slot] as number) - 1
    this.#inFlight[slot] = left
    if (left === 0) {
      this.#sinceIdle[slot] = 0
      this.#draining[slot] = false
    } else {
      const n = (this.#sinceIdle[slot] as number) + 1
      this.#sinceIdle[slot] = n
      if (n >= DRAIN_EVERY) this.#draining[slot] = true
    }
    this.#dispatch()
  }

  /** Hand free connections to the oldest waiting statements. */
  #dispatch(): void {
    while (this.#head < this.#waiting.length) {
      const slot = this.#pick()
      if (slot < 0) return
      const job = this.#waiting[this.#head]
      this.#waiting[this.#head++] = undefined
      // Give the consumed slots back as the queue goes, not only when it runs empty.
      if (this.#head === this.#waiting.length) {
        this.#waiting = []
        this.#head = 0
      } else if (this.#head >= 1024 && this.#head * 2 >= this.#waiting.length) {
        this.#waiting = this.#waiting.slice(this.#head)
        this.#head = 0
      }
      // A statement given up on while it waited (deadline) is dropped unsent.
      if (job && !job.cancelled) {
        const running = this.#start(slot, job.text, job.params)
        job.running = running
        running.then(job.resolve, job.reject)
      }
    }
  }

  /** Statements waiting for a slot right now. */
  get waiting(): number {
    return this.#waiting.length - this.#head
  }

  async end(): Promise<void> {
    clearInterval(this.#idleCheck)
    const left = this.#waiting.slice(this.#head)
    this.#waiting = []
    this.#head = 0
    for (const job of left) {
      job?.reject(Object.assign(new Error('the store was closed'), { code: 'CONNECTION_ENDED' }))
    }
    await Promise.all(this.#clients.map((c) => c?.end({ timeout: 5 })))
  }
}
