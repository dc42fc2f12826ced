import { storeError } from '@sessile/core'
import type { MysqlClient, MysqlPoolConnection, MysqlQueryable } from './client.js'
import { backoff, classifyMysqlFailure, type MysqlRetryPolicy, pause, shouldRetry } from './retry.js'

/** Short READ COMMITTED transactions (no gap locks), each on one pooled connection. */
export class MysqlTransactions {
  readonly #client: MysqlClient
  readonly #source: string
  readonly #policy: MysqlRetryPolicy
  // A single connection (no pool) must not interleave our transactions with other statements.
  #queue: Promise<unknown> = Promise.resolve()

  constructor(client: MysqlClient, source: string, policy: MysqlRetryPolicy) {
    this.#client = client
    this.#source = source
    this.#policy = policy
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
    const policy = this.#policy
    for (let attempt = 1; ; attempt++) {
      let conn: MysqlPoolConnection
      try {
        conn = await getConnection()
      } catch (error) {
        // Nothing was sent: with several hosts the next try may reach another node.
        const failure = classifyMysqlFailure(error)
        if (!shouldRetry(policy, failure, attempt)) throw storeError(this.#source, action, error)
        policy.onRetry?.(failure, attempt + 1, error)
        await pause(backoff(failure, attempt))
        continue
      }
      try {
        const out = await inTransaction(conn, fn)
        conn.release()
        return out
      } catch (error) {
        // The transaction was rolled back (a certification failure at COMMIT included), so
        // nothing was handed out yet: try again.
        const failure = classifyMysqlFailure(error)
        if (shouldRetry(policy, failure, attempt)) {
          if (failure === 'conflict') conn.release()
          else conn.destroy?.()
          policy.onRetry?.(failure, attempt + 1, error)
          await pause(backoff(failure, attempt))
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
