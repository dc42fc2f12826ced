import { storeError } from '@sessile/core'
import { isMysqlConnectionLost } from '../connection-lost.js'
import type { MysqlClient, MysqlPoolConnection, MysqlQueryable } from './client.js'
import { isRetryable } from './errno.js'

/** Short READ COMMITTED transactions (no gap locks), each on one pooled connection. */
export class MysqlTransactions {
  readonly #client: MysqlClient
  readonly #source: string
  // A single connection (no pool) must not interleave our transactions with other statements.
  #queue: Promise<unknown> = Promise.resolve()

  constructor(client: MysqlClient, source: string) {
    this.#client = client
    this.#source = source
  }

  async run<T>(action: string, fn: (conn: MysqlQueryable) => Promise<T>): Promise<T> {
    const getConnection = this.#client.getConnection?.bind(this.#client)
    if (!getConnection) {
      const run = this.#queue.then(() => inTransaction(this.#client, fn))
      this.#queue = run.catch(() => {})
      try {
        return await run
      } catch (error) {
        throw storeError(this.#source, action, error)
      }
    }
    for (let attempt = 1; ; attempt++) {
      let conn: MysqlPoolConnection
      try {
        conn = await getConnection()
      } catch (error) {
        throw storeError(this.#source, action, error)
      }
      try {
        const out = await inTransaction(conn, fn)
        conn.release()
        return out
      } catch (error) {
        // The transaction was rolled back, so nothing was handed out yet: try again.
        if (isRetryable(error) && attempt < 5) {
          conn.release()
          continue
        }
        if (isMysqlConnectionLost(error) && attempt < 5) {
          conn.destroy?.()
          continue
        }
        // After any other failure the connection's state is unknown: do not hand it back.
        if (conn.destroy) conn.destroy()
        else conn.release()
        throw storeError(this.#source, action, error)
      }
    }
  }
}

async function inTransaction<T>(conn: MysqlQueryable, fn: (conn: MysqlQueryable) => Promise<T>): Promise<T> {
  await conn.query('SET TRANSACTION ISOLATION LEVEL READ COMMITTED')
  await conn.query('START TRANSACTION')
  try {
    const out = await fn(conn)
    await conn.query('COMMIT')
    return out
  } catch (error) {
    await conn.query('ROLLBACK').catch(() => {})
    throw error
  }
}
