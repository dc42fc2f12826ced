import type { MysqlDone } from './client.js'

/** A statement mysql2 prepared on one connection (its `PreparedStatementInfo`). */
interface Prepared {
  execute(values: unknown[], done: (error: unknown, result?: unknown) => void): unknown
}

/** A mysql2 connection (callback API), as far as preparing goes. */
interface PreparingConnection {
  prepare(sql: string, done: (error: unknown, statement?: Prepared) => void): unknown
  release?(): void
}

/** A mysql2 pool (callback API), as far as lending connections goes. */
interface LendingPool {
  getConnection(done: (error: unknown, connection?: PreparingConnection) => void): unknown
}

// ER_UNKNOWN_STMT_HANDLER: the server no longer knows the statement (mysql2 closes prepared
// statements it evicts from its own per-connection cache, which a borrowed pool may fill).
const UNKNOWN_STATEMENT = 1243

/**
 * Prepared statements, each prepared once per connection and then executed directly. mysql2's
 * `execute` on a pool or connection instead queues a Prepare command on every call, which finds
 * the statement in an LRU keyed by a string it builds from the full SQL text (a new string, so it
 * is hashed in full each time): app CPU on every statement for nothing new.
 */
export function preparedSender(core: object): (sql: string, values: unknown[], done: MysqlDone) => void {
  const statements = new WeakMap<object, Map<string, Prepared>>()

  const run = (
    conn: PreparingConnection,
    sql: string,
    values: unknown[],
    done: MysqlDone,
    again: boolean,
  ) => {
    let mine = statements.get(conn)
    if (!mine) {
      mine = new Map()
      statements.set(conn, mine)
    }
    const cache = mine
    const execute = (statement: Prepared): void => {
      statement.execute(values, (error, result) => {
        if (error && !again && (error as { errno?: unknown }).errno === UNKNOWN_STATEMENT) {
          cache.delete(sql)
          run(conn, sql, values, done, true)
          return
        }
        done(error, result)
      })
    }
    const known = cache.get(sql)
    if (known) {
      execute(known)
      return
    }
    conn.prepare(sql, (error, statement) => {
      if (error || !statement) {
        done(error ?? new Error('mysql2 prepared no statement'))
        return
      }
      cache.set(sql, statement)
      execute(statement)
    })
  }

  const pool = core as Partial<LendingPool>
  if (typeof pool.getConnection !== 'function') {
    // A single connection: statements queue on it in mysql2's own order.
    const conn = core as PreparingConnection
    return (sql, values, done) => run(conn, sql, values, done, false)
  }
  const lend = pool.getConnection.bind(core)
  return (sql, values, done) => {
    lend((error, conn) => {
      if (error || !conn) {
        done(error ?? new Error('mysql2 lent no connection'))
        return
      }
      run(
        conn,
        sql,
        values,
        (e, result) => {
          conn.release?.()
          done(e, result)
        },
        false,
      )
    })
  }
}
