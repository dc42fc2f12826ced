import type { Row } from '../rows.js'
import type { Deadlines } from './deadlines.js'

/**
 * A statement on its way through postgres.js, as `pgStore` runs it: the rows, a way to ask for it
 * to stop, and (on a connection the store owns) a way to give up on that connection.
 */
export type Statement = Promise<Row[]> & {
  /**
   * Asks for the statement to be cancelled if that is safe now (see {@link cancelSafely}), and
   * says whether it was: false means "not yet, ask again".
   */
  cancel(): boolean
  /** Ends the statement's connection at once (a store-owned one only): its statements fail. */
  abandon?(): void
}

/** postgres.js's own statement object (3.4): `state` once written to a connection, `active` while answered. */
interface DriverQuery {
  state?: unknown
  active?: unknown
  cancel(): unknown
}

/**
 * Cancels `q` when that cannot hit another statement. It can when `q` was never written to a
 * connection (postgres.js then drops it from its queue) or is the statement the server is
 * answering (a CancelRequest stops it). It cannot while `q` waits in a connection's pipeline
 * behind another statement: postgres.js 3.4 then marks it skipped, sends the CancelRequest when
 * its turn comes (to whichever statement runs then), and hands the result the server still sends
 * for it to the statement after it, and so on down the pipeline; a read was given another key's
 * row (test/pg-driver-hazards.test.ts). Returns false then, and the caller asks again later.
 * A postgres.js without these fields is never cancelled: the deadline still fails the caller.
 */
export function cancelSafely(q: DriverQuery): boolean {
  if (!('state' in q) || !('active' in q)) return false
  if (q.state && q.active !== true) return false
  try {
    q.cancel()
  } catch {
    // Nothing to cancel any more: the statement settles by itself.
  }
  return true
}

/**
 * A result postgres.js assembled wrong. After a statement fails once some of its rows have arrived
 * (a cancel, a terminated backend), postgres.js 3.4 keeps its row counter, and the next statement
 * on that connection resolves with that many empty slots before its own rows: a read of a live
 * session then finds no row (porsager/postgres#1119). The statement ran; its result cannot be
 * used, so the store treats it as a reply lost with its connection (and retries, see
 * connection-lost.ts).
 */
export const RESULT_HOLES = 'RESULT_HOLES'

function checked(rows: Row[]): Row[] {
  for (let i = 0; i < rows.length; i++) {
    if (rows[i] === undefined) {
      throw Object.assign(
        new Error(
          `the driver returned ${rows.length} rows with an empty slot at ${i}: a row count left over from a failed statement; the statement ran, its result is unusable`,
        ),
        { code: RESULT_HOLES },
      )
    }
  }
  return rows
}

/** How long a statement past its deadline gets for the server to act on the cancel. */
export const CANCEL_GRACE_MS = 1_000
/** How often a cancel that is not safe yet (the statement waits in a pipeline) is tried again. */
const CANCEL_RETRY_MS = 10

/**
 * Ask the server to cancel a statement that has not answered by its deadline, and fail it. The
 * failure waits (up to CANCEL_GRACE_MS) for the statement to settle, so that when it is reported
 * the cancel has landed: a statement blocked on a lock does not go on to commit after its caller
 * was told it failed. One that finishes in that window reports its real result. One that never
 * settles (a dead connection, or one stuck behind a statement that never answers) fails when the
 * grace runs out, and its connection is abandoned when the store owns it, so that nothing is
 * left to run on it later and the lane gets a new one.
 */
export function withDeadline(query: Statement, deadlines: Deadlines): Promise<Row[]> {
  return new Promise<Row[]>((resolve, reject) => {
    let late: Error | undefined
    let grace: NodeJS.Timeout | undefined
    let retry: NodeJS.Timeout | undefined
    let settled = false
    const stop = (): void => {
      settled = true
      deadlines.remove(deadline)
      if (grace !== undefined) clearTimeout(grace)
      if (retry !== undefined) clearTimeout(retry)
    }
    const deadline = deadlines.add(() => {
      late = Object.assign(new Error(`statement did not answer within ${deadlines.ms} ms`), {
        code: 'QUERY_TIMEOUT',
      })
      const error = late
      grace = setTimeout(() => {
        stop()
        query.abandon?.()
        reject(error)
      }, CANCEL_GRACE_MS)
      // Made only here, past the deadline: a statement that answers in time pays for no closure.
      const tryCancel = (): void => {
        retry = undefined
        if (!settled && !query.cancel()) retry = setTimeout(tryCancel, CANCEL_RETRY_MS)
      }
      tryCancel()
    })
    query.then(
      (rows) => {
        if (settled) return
        stop()
        try {
          resolve(checked(rows))
        } catch (error) {
          reject(late ?? error)
        }
      },
      (error: unknown) => {
        if (settled) return
        stop()
        reject(late ?? error)
      },
    )
  })
}
