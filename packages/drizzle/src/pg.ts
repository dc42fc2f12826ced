/**
 * `@sessile/drizzle/pg`: sessions in PostgreSQL through postgres.js (the `postgres` package).
 * Only this entry imports the driver.
 */
import postgres, { type Sql } from 'postgres'
import { optionError } from './_internal/options.js'
import { resolvePgOptions } from './_internal/pg/options.js'
import { type PgExecutor, PgSqlStore, type Row } from './_internal/pg/store.js'
import { Deadlines } from './_internal/postgres-js/deadlines.js'
import { PostgresPool } from './_internal/postgres-js/pool.js'
import { cancelSafely, type Statement, withDeadline } from './_internal/postgres-js/statement.js'
import type { SqlSessionStore, SqlStoreOptions } from './options.js'

export { pgSessionsTable } from './_internal/pg/table.js'
export type { SqlSessionStore, SqlStoreOptions } from './options.js'

const NAME = 'pg'

/** Options of {@link pgStore}. Give exactly one of `url`, `db` or `client`. */
export interface PgStoreOptions extends SqlStoreOptions {
  /**
   * A `postgres://` or `postgresql://` URL; the store opens (and on `close()` ends) its own pool.
   * @default undefined
   */
  url?: string
  /**
   * Your Drizzle database (`drizzle-orm/postgres-js`); the store reuses its client (`db.$client`)
   * and never closes it.
   * @default undefined
   */
  db?: { $client: Sql }
  /**
   * Your postgres.js client; reused, never closed by the store.
   * @default undefined
   */
  client?: Sql
  /**
   * The schema of the table; unset means the connection's `search_path` (usually `public`).
   * @default undefined
   */
  schema?: string
  /**
   * Pool size when the store opens its own connections from `url`.
   * @default 10
   */
  max?: number
  /**
   * `application_name` of connections the store opens, so they are easy to find in `pg_stat_activity`.
   * @default 'sessile'
   */
  applicationName?: string
  /**
   * Seconds to wait for a connection the store opens.
   * @default 10
   */
  connectTimeout?: number
  /**
   * Milliseconds one statement may take before the store cancels it and fails with `E_STORE`, so a
   * request never hangs on a connection the server dropped mid-restart. The failure is reported
   * once the cancel has landed (at most 1 s later), so a cancelled write does not commit afterwards.
   * @default 15000
   */
  queryTimeout?: number
}

/**
 * A session store in PostgreSQL (or any PostgreSQL-wire database) through postgres.js. Every
 * operation is one prepared statement; expiry is decided on the database clock.
 *
 * @example
 * import { createSessions } from '@sessile/core'
 * import { pgStore } from '@sessile/drizzle/pg'
 * const sessions = createSessions({ store: pgStore({ url: process.env.DATABASE_URL }) })
 */
export function pgStore(options: PgStoreOptions): SqlSessionStore {
  const config = resolvePgOptions(NAME, options)
  return new PgSqlStore(NAME, pgExecutor(options), config)
}

function queryTimeoutOf(options: PgStoreOptions): number {
  const ms = options.queryTimeout ?? 15_000
  if (!Number.isInteger(ms) || ms < 1) throw optionError(NAME, 'queryTimeout must be a whole number of ms')
  return ms
}

function pgExecutor(options: PgStoreOptions): PgExecutor {
  const given = [options.url, options.db, options.client].filter((v) => v !== undefined).length
  if (given !== 1) throw optionError(NAME, 'give exactly one of url, db or client')
  if (options.url !== undefined) return ownClient(options)
  const client = options.client ?? options.db?.$client
  if (typeof (client as Partial<Sql> | undefined)?.unsafe !== 'function') {
    throw optionError(NAME, 'db must be a drizzle-orm/postgres-js database and client a postgres.js Sql')
  }
  const sql = client as Sql
  const deadlines = new Deadlines(queryTimeoutOf(options))
  // A client set up for a transaction pooler (prepare: false) must keep working the same way.
  const prepare = (sql.options as { prepare?: boolean } | undefined)?.prepare !== false
  return {
    query: (text, params) => {
      const q = sql.unsafe(text, params as never[], { prepare })
      // Sent on first then(); cancel goes through cancelSafely (the client may pipeline).
      const statement = q.then((rows) => rows as unknown as Row[]) as Statement
      statement.cancel = () => cancelSafely(q)
      return withDeadline(statement, deadlines)
    },
    close: async () => {},
  }
}

function ownClient(options: PgStoreOptions): PgExecutor {
  const url = options.url
  if (typeof url !== 'string' || !/^postgres(ql)?:\/\//i.test(url)) {
    throw optionError(NAME, 'url must be a postgres:// or postgresql:// URL')
  }
  const max = options.max ?? 10
  if (!Number.isInteger(max) || max < 1) throw optionError(NAME, 'max must be a whole number of at least 1')
  const connectTimeout = options.connectTimeout ?? 10
  if (typeof connectTimeout !== 'number' || !(connectTimeout > 0)) {
    throw optionError(NAME, 'connectTimeout must be a positive number of seconds')
  }
  const deadlines = new Deadlines(queryTimeoutOf(options))
  const applicationName = options.applicationName ?? 'sessile'
  if (typeof applicationName !== 'string') throw optionError(NAME, 'applicationName must be a string')
  const settings = {
    max: 1,
    connect_timeout: connectTimeout,
    // No idle_timeout: PostgresPool ends idle connections itself, with one timer for all of them.
    // IF NOT EXISTS notices would otherwise be printed on every start-up.
    onnotice: () => {},
    // The store binds no arrays and reads none. With types fetched, every new connection first
    // ran a catalog query whose failure (a backend terminated during start-up) postgres.js 3.4
    // rejects with nobody listening: an unhandled rejection, which ends a Node process by
    // default (porsager/postgres#1192); seen under pg_terminate_backend in the fault tests.
    fetch_types: false,
    connection: { application_name: applicationName },
  }
  let first: Sql
  try {
    first = postgres(url, settings)
  } catch (error) {
    throw optionError(NAME, `cannot use url: ${error instanceof Error ? error.message : String(error)}`)
  }
  // One client per connection (see PostgresPool for why), the first made here so a bad URL fails now.
  const lanes = new PostgresPool(() => postgres(url, settings), max, first)
  let closed = false
  return {
    query: (text, params) => withDeadline(lanes.query(text, params), deadlines),
    close: async () => {
      if (closed) return
      closed = true
      await lanes.end()
    },
  }
}
