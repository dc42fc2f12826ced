import type { ReadResult } from '@sessile/core'
import { type Row, toReadResult } from './rows.js'
import { toText } from './values.js'

/** The most reads one statement carries. */
export const READ_BATCH = 32

/**
 * The IN-list sizes a batch is padded to (powers of two; the padding repeats a key), so that a
 * connection prepares at most five batch statements.
 */
export function batchSize(n: number): number {
  return 2 ** Math.ceil(Math.log2(n))
}

/**
 * How long a read waits for a lane before it goes anyway. Lanes come back in a round trip; one
 * that has not in this long is likely stuck (a half-dead connection), and reads must not all
 * queue behind it: they then go beyond the lane count, as they would without lanes.
 */
export const STALL_MS = 200

interface Waiting {
  key: string
  since: number
  resolve: (result: ReadResult | null) => void
  reject: (error: unknown) => void
}

export interface ReadSenders {
  /** One read, alone (the plain read statement). */
  one(key: string): Promise<ReadResult | null>
  /**
   * Several reads as one statement: `keys` is padded to `batchSize(keys.length)` by the caller's
   * statement choice; the rows carry their `key` column, expired and missing keys have none.
   */
  many(keys: string[]): Promise<Row[]>
}

/**
 * Reads coalesce under load: at most `lanes` read statements are in flight; a read that finds
 * them all out waits, and the reads that waited go together as one statement as soon as one
 * comes back. A read that finds a free lane is sent at once, so a lone read never waits, and no
 * timer paces the batches (fake timers in a user's tests cannot stall them); the one timer only
 * lets reads past lanes that stayed out for `stallMs`.
 */
export class ReadBatcher {
  #inFlight = 0
  #waiting: Waiting[] = []
  #timer: ReturnType<typeof setTimeout> | undefined

  constructor(
    readonly lanes: number,
    readonly send: ReadSenders,
    readonly stallMs = STALL_MS,
  ) {}

  read(key: string): Promise<ReadResult | null> {
    if (this.#inFlight < this.lanes) {
      this.#inFlight++
      const out = this.send.one(key)
      out.then(this.#done, this.#done)
      return out
    }
    return new Promise((resolve, reject) => {
      this.#waiting.push({ key, since: Date.now(), resolve, reject })
      // One timer at a time, checked at most every stallMs: it only ever fires when reads waited.
      if (this.#timer === undefined) this.#arm(this.stallMs)
    })
  }

  readonly #done = (): void => {
    this.#inFlight--
    if (this.#waiting.length > 0) this.#next()
  }

  #next(): void {
    const waiting = this.#waiting
    const batch = waiting.length <= READ_BATCH ? waiting.splice(0) : waiting.splice(0, READ_BATCH)
    this.#inFlight++
    this.#sendBatch(batch).then(this.#done, this.#done)
  }

  #arm(ms: number): void {
    this.#timer = setTimeout(this.#check, ms)
    this.#timer.unref?.()
  }

  // The oldest waiting read waited stallMs: the lanes are stuck, so it goes beyond them.
  readonly #check = (): void => {
    this.#timer = undefined
    const first = this.#waiting[0]
    if (first === undefined) return
    if (Date.now() - first.since >= this.stallMs) this.#next()
    const oldest = this.#waiting[0]
    if (oldest !== undefined) this.#arm(Math.max(1, this.stallMs - (Date.now() - oldest.since)))
  }

  #sendBatch(batch: Waiting[]): Promise<void> {
    if (batch.length === 1) {
      const only = batch[0] as Waiting
      return this.send.one(only.key).then(only.resolve, only.reject)
    }
    return this.send.many(batch.map((w) => w.key)).then(
      (rows) => {
        const found = new Map<string, Row>()
        for (const row of rows) found.set(toText(row.key), row)
        const given = new Set<string>()
        for (const w of batch) {
          const row = found.get(w.key)
          if (!row) {
            w.resolve(null)
            continue
          }
          const result = toReadResult(w.key, row)
          // Readers of one session each get bytes of their own.
          if (given.has(w.key)) result.data = new Uint8Array(result.data)
          given.add(w.key)
          w.resolve(result)
        }
      },
      (error: unknown) => {
        for (const w of batch) w.reject(error)
      },
    )
  }
}

/** `keys` padded to the batch statement's size by repeating the first. */
export function padKeys(keys: string[]): string[] {
  const n = batchSize(keys.length)
  const out = keys.slice()
  for (let i = out.length; i < n; i++) out.push(keys[0] as string)
  return out
}
