import type { ReadResult, SessionRef } from '@sessile/core'
import { type Row, toReadResult } from './rows.js'
import { toNullableText, toText } from './values.js'

/** The most keys one statement carries. */
export const BATCH_MAX = 32

/**
 * The IN-list sizes a batch is padded to (powers of two; the padding repeats a key), so that a
 * connection prepares at most five batch statements of each kind.
 */
export function batchSize(n: number): number {
  return 2 ** Math.ceil(Math.log2(n))
}

/** `keys` padded to the batch statement's size by repeating the first. */
export function padKeys(keys: string[]): string[] {
  const n = batchSize(keys.length)
  const out = keys.slice()
  for (let i = out.length; i < n; i++) out.push(keys[0] as string)
  return out
}

/**
 * How long a call waits for a lane before it goes anyway. Lanes come back in a round trip; one
 * that has not in this long is likely stuck (a half-dead connection), and calls must not all
 * queue behind it: they then go beyond the lane count, as they would without lanes.
 */
export const STALL_MS = 200

interface Waiting<R> {
  key: string
  since: number
  resolve: (result: R) => void
  reject: (error: unknown) => void
}

export interface Senders<R> {
  /** One key, alone (the plain statement). */
  one(key: string): Promise<R>
  /**
   * Several keys as one statement (`keys` unpadded, each at most once): the rows carry their
   * `key` column; a key without a row has no result row.
   */
  many(keys: string[]): Promise<Row[]>
  /** The result for a caller of `key`, from its row; `first` is false for a repeated key. */
  pick(key: string, row: Row | undefined, first: boolean): R
  /**
   * The bytes a result carried, to learn the rows' size: while their recent average is above
   * `LARGE_ROW_BYTES`, calls go alone, as without lanes.
   */
  size?(result: R): number
}

/**
 * Rows this large (on average, recently) are read alone. A batch saves a statement's fixed cost
 * (the round trip, the socket writes, the column definitions), which a 400 B row is dominated by
 * and a 16 KB one is not, while it caps the statements in flight at the lane count, so the
 * server reads a batch's rows one after another (docs/architecture-drizzle.md, "lanes").
 */
export const LARGE_ROW_BYTES = 8 * 1024

/**
 * The recent average size of a store's rows, from its reads. Only reads consult it: a destroy's
 * row is almost always one its request has just read, so it is cached, and cached rows batch
 * well at any size. A read's row may be cold, and a batch reads its rows one after the other
 * (docs/architecture-drizzle.md, "lanes").
 */
class RowSizes {
  #avg = 0

  /** A moving average over the last ~16 rows read. */
  observe(bytes: number): void {
    if (bytes > 0) this.#avg += (bytes - this.#avg) / 16
  }

  get large(): boolean {
    return this.#avg > LARGE_ROW_BYTES
  }
}

/**
 * Calls of one kind coalesce under load: at most `lanes` statements are in flight; a call that
 * finds them all out waits, and the calls that waited go together as one statement as soon as
 * one comes back. A call that finds a free lane is sent at once, so a lone call never waits, and
 * no timer paces the batches (fake timers in a user's tests cannot stall them); the one timer
 * only lets calls past lanes that stayed out for `stallMs`.
 */
export class Coalescer<R> {
  #inFlight = 0
  #waiting: Waiting<R>[] = []
  #timer: ReturnType<typeof setTimeout> | undefined
  // Learnt only from the results of senders with `size` (reads): see RowSizes.
  readonly #sizes = new RowSizes()

  constructor(
    readonly lanes: number,
    readonly send: Senders<R>,
    readonly stallMs = STALL_MS,
  ) {}

  call(key: string): Promise<R> {
    if (this.#sizes.large) {
      const out = this.send.one(key)
      out.then(this.#observe, () => {})
      return out
    }
    if (this.#inFlight < this.lanes) {
      this.#inFlight++
      const out = this.send.one(key)
      out.then(this.#doneWith, this.#done)
      return out
    }
    return new Promise((resolve, reject) => {
      this.#waiting.push({ key, since: Date.now(), resolve, reject })
      // One timer at a time, checked at most every stallMs: it only ever fires when calls waited.
      if (this.#timer === undefined) this.#arm(this.stallMs)
    })
  }

  // Learns the rows' size from a result (a no-op for kinds that carry no data).
  readonly #observe = (result: R): void => {
    if (this.send.size !== undefined) this.#sizes.observe(this.send.size(result))
  }

  readonly #doneWith = (result: R): void => {
    this.#observe(result)
    this.#done()
  }

  readonly #done = (): void => {
    this.#inFlight--
    if (this.#waiting.length > 0) this.#next()
  }

  #next(): void {
    const waiting = this.#waiting
    const batch = waiting.length <= BATCH_MAX ? waiting.splice(0) : waiting.splice(0, BATCH_MAX)
    this.#inFlight++
    this.#sendBatch(batch).then(this.#done, this.#done)
  }

  #arm(ms: number): void {
    this.#timer = setTimeout(this.#check, ms)
    this.#timer.unref?.()
  }

  // The oldest waiting call waited stallMs: the lanes are stuck, so it goes beyond them.
  readonly #check = (): void => {
    this.#timer = undefined
    const first = this.#waiting[0]
    if (first === undefined) return
    if (Date.now() - first.since >= this.stallMs) this.#next()
    const oldest = this.#waiting[0]
    if (oldest !== undefined) this.#arm(Math.max(1, this.stallMs - (Date.now() - oldest.since)))
  }

  #sendBatch(batch: Waiting<R>[]): Promise<void> {
    if (batch.length === 1) {
      const only = batch[0] as Waiting<R>
      return this.send.one(only.key).then((result) => {
        this.#observe(result)
        only.resolve(result)
      }, only.reject)
    }
    return this.send.many([...new Set(batch.map((w) => w.key))]).then(
      (rows) => {
        const found = new Map<string, Row>()
        for (const row of rows) found.set(toText(row.key), row)
        const given = new Set<string>()
        for (const w of batch) {
          let result: R
          try {
            result = this.send.pick(w.key, found.get(w.key), !given.has(w.key))
          } catch (error) {
            w.reject(error)
            continue
          }
          given.add(w.key)
          this.#observe(result)
          w.resolve(result)
        }
      },
      (error: unknown) => {
        for (const w of batch) w.reject(error)
      },
    )
  }
}

/** The bytes a read carried (0 for none). */
export const readSize = (result: ReadResult | null): number => result?.data.byteLength ?? 0

/** A read's result from its row: readers of one session each get bytes of their own. */
export function pickRead(key: string, row: Row | undefined, first: boolean): ReadResult | null {
  if (!row) return null
  const result = toReadResult(key, row)
  if (!first) result.data = new Uint8Array(result.data)
  return result
}

/** A destroy's result from the row it deleted: a row is reported to one caller only. */
export function pickDestroy(key: string, row: Row | undefined, first: boolean): SessionRef | null {
  return row && first ? { key, ref: toNullableText(row.ref) } : null
}
