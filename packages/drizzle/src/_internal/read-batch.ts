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

interface Waiting {
  key: string
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
 * timer is involved (fake timers in a user's tests cannot stall it).
 */
export class ReadBatcher {
  #inFlight = 0
  #waiting: Waiting[] = []

  constructor(
    readonly lanes: number,
    readonly send: ReadSenders,
  ) {}

  read(key: string): Promise<ReadResult | null> {
    if (this.#inFlight < this.lanes) {
      this.#inFlight++
      const out = this.send.one(key)
      out.then(this.#done, this.#done)
      return out
    }
    return new Promise((resolve, reject) => {
      this.#waiting.push({ key, resolve, reject })
    })
  }

  readonly #done = (): void => {
    this.#inFlight--
    const waiting = this.#waiting
    if (waiting.length === 0) return
    const batch = waiting.length <= READ_BATCH ? waiting.splice(0) : waiting.splice(0, READ_BATCH)
    this.#inFlight++
    this.#sendBatch(batch).then(this.#done, this.#done)
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
