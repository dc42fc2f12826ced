/**
 * `@sessile/drizzle/sqlite`: sessions in SQLite through better-sqlite3 or libSQL
 * (`@libsql/client`): a file beside the app shared by its worker processes, `:memory:`, or a
 * `libsql://` server. Only this entry imports the drivers, and only the one it opens with.
 */
import { optionError, resolveSqlOptions } from './_internal/options.js'
import { betterSqlite3Executor, isBetterSqlite3 } from './_internal/sqlite/better-sqlite3.js'
import { isLibsqlClient, libsqlExecutor } from './_internal/sqlite/libsql.js'
import { lazyExecutor, type SqliteTarget } from './_internal/sqlite/open.js'
import { type SqliteExecutor, SqliteSqlStore } from './_internal/sqlite/store.js'
import type { SqlSessionStore, SqlStoreOptions } from './options.js'

export type { BetterSqlite3Like } from './_internal/sqlite/better-sqlite3.js'
export type { LibsqlClientLike } from './_internal/sqlite/libsql.js'
export { sqliteSessionsTable } from './_internal/sqlite/table.js'
export type { SqlSessionStore, SqlStoreOptions } from './options.js'

const NAME = 'sqlite'

/** A better-sqlite3 `Database` or a `@libsql/client` `Client`. */
export type SqliteClient =
  | import('./_internal/sqlite/better-sqlite3.js').BetterSqlite3Like
  | import('./_internal/sqlite/libsql.js').LibsqlClientLike

/**
 * Options of {@link sqliteStore}. Give at most one of `path`, `url`, `client` or `db`; none means
 * a private database in memory.
 */
export interface SqliteStoreOptions extends SqlStoreOptions {
  /**
   * A database file (e.g. `./data/sessions.db`; its directory is created when missing) or
   * `:memory:`. The store opens it with `driver` and closes it on `close()`.
   * @default undefined (`:memory:`)
   */
  path?: string
  /**
   * A libSQL URL, opened with `@libsql/client`: `libsql://`, `https://`, `http://`, `wss://`,
   * `ws://` (a libSQL server such as Turso) or `file:` (a local file).
   * @default undefined
   */
  url?: string
  /**
   * The auth token of a libSQL server named by `url`.
   * @default undefined
   */
  authToken?: string
  /**
   * The library that opens `path`.
   * @default 'better-sqlite3' when it is installed, else 'libsql'
   */
  driver?: 'better-sqlite3' | 'libsql'
  /**
   * Your better-sqlite3 `Database` or `@libsql/client` `Client`; reused, never closed. Its
   * settings are yours: use WAL and a busy timeout when several processes share the file.
   * @default undefined
   */
  client?: SqliteClient
  /**
   * Your Drizzle database (`drizzle-orm/better-sqlite3` or `drizzle-orm/libsql`); the store reuses
   * `db.$client`.
   * @default undefined
   */
  db?: { $client: SqliteClient }
  /**
   * Milliseconds a statement waits for another connection's (or process's) write lock before
   * SQLite gives up with `SQLITE_BUSY`; databases the store opens only.
   * @default 5000
   */
  busyTimeout?: number
  /**
   * `PRAGMA synchronous` of databases the store opens. `'normal'` (with WAL) keeps every commit
   * through an app crash and may lose the last commits to a power cut; `'full'` syncs each commit.
   * @default 'normal'
   */
  synchronous?: 'normal' | 'full'
}

/**
 * A session store in SQLite. Files are opened in WAL mode with a busy timeout, so several
 * processes on one machine share one file; every operation is one statement, and expiry is
 * decided by the database's clock (`julianday('now')`).
 *
 * @example
 * import { createSessions } from '@sessile/core'
 * import { sqliteStore } from '@sessile/drizzle/sqlite'
 * const sessions = createSessions({ store: sqliteStore({ path: './data/sessions.db' }) })
 */
export function sqliteStore(options: SqliteStoreOptions = {}): SqlSessionStore {
  const resolved = resolveSqlOptions(NAME, options, { maxTableBytes: 1024, hardMaxBytes: 1_000_000_000 })
  if (/^sqlite_/i.test(resolved.table)) {
    throw optionError(NAME, 'table names starting with sqlite_ are reserved by SQLite')
  }
  return new SqliteSqlStore(NAME, sqliteExecutor(options), resolved)
}

function sqliteExecutor(options: SqliteStoreOptions): SqliteExecutor {
  const given = [options.path, options.url, options.client, options.db].filter((v) => v !== undefined)
  if (given.length > 1) throw optionError(NAME, 'give at most one of path, url, client or db')
  const borrowed = options.client ?? options.db?.$client
  if (borrowed !== undefined || options.db !== undefined) {
    if (isBetterSqlite3(borrowed)) return betterSqlite3Executor(borrowed, false)
    if (isLibsqlClient(borrowed)) return libsqlExecutor(borrowed, false)
    throw optionError(
      NAME,
      'client must be a better-sqlite3 Database or a @libsql/client Client, and db a drizzle-orm/better-sqlite3 or drizzle-orm/libsql database',
    )
  }
  const busyTimeout = options.busyTimeout ?? 5000
  if (!Number.isInteger(busyTimeout) || busyTimeout < 0) {
    throw optionError(NAME, 'busyTimeout must be a whole number of ms')
  }
  const synchronous = options.synchronous ?? 'normal'
  if (synchronous !== 'normal' && synchronous !== 'full') {
    throw optionError(NAME, "synchronous must be 'normal' or 'full'")
  }
  if (
    options.authToken !== undefined &&
    (typeof options.authToken !== 'string' || options.url === undefined)
  ) {
    throw optionError(NAME, 'authToken must be a string, given with url')
  }
  return lazyExecutor(target(options), { busyTimeout, synchronous })
}

function target(options: SqliteStoreOptions): SqliteTarget {
  if (options.url !== undefined) {
    const url = options.url
    if (typeof url !== 'string' || !/^(libsql|https?|wss?|file):/i.test(url)) {
      throw optionError(NAME, 'url must be a libsql://, https://, http://, wss://, ws:// or file: URL')
    }
    return { kind: 'url', url, authToken: options.authToken }
  }
  const path = options.path ?? ':memory:'
  if (typeof path !== 'string' || path.length === 0 || path.includes('\u0000')) {
    throw optionError(NAME, 'path must be a non-empty file path without NUL, or :memory:')
  }
  const driver = options.driver
  if (driver !== undefined && driver !== 'better-sqlite3' && driver !== 'libsql') {
    throw optionError(NAME, "driver must be 'better-sqlite3' or 'libsql'")
  }
  return { kind: 'path', path, driver }
}
