import type { Row, SqliteExecutor } from './store.js'

/** The part of a better-sqlite3 `Database` the store uses. */
export interface BetterSqlite3Like {
  prepare(text: string): BetterSqlite3StatementLike
  pragma(text: string, options?: { simple?: boolean }): unknown
  close(): unknown
  readonly open: boolean
  readonly memory: boolean
}

export interface BetterSqlite3StatementLike {
  readonly reader: boolean
  all(...params: unknown[]): unknown[]
  get(...params: unknown[]): unknown
  run(...params: unknown[]): unknown
  raw(toggle?: boolean): BetterSqlite3StatementLike
}

export const isBetterSqlite3 = (client: unknown): client is BetterSqlite3Like =>
  typeof (client as Partial<BetterSqlite3Like> | null)?.prepare === 'function' &&
  typeof (client as Partial<BetterSqlite3Like> | null)?.pragma === 'function'

/**
 * Runs statements on a better-sqlite3 database, each prepared once. better-sqlite3 is synchronous:
 * a statement runs to its end before the call returns, so nothing of the store's interleaves.
 */
export function betterSqlite3Executor(db: BetterSqlite3Like, owned: boolean): SqliteExecutor {
  const prepared = new Map<string, BetterSqlite3StatementLike>()
  // In raw mode better-sqlite3 hands a row back as an array of its values: no object with a
  // property per column to build, which a read then takes apart again.
  const preparedRaw = new Map<string, BetterSqlite3StatementLike>()
  return {
    query(text, params) {
      let statement = prepared.get(text)
      if (statement === undefined) {
        statement = db.prepare(text)
        prepared.set(text, statement)
      }
      if (statement.reader) return statement.all(...params) as Row[]
      statement.run(...params)
      return []
    },
    first(text, params) {
      let statement = preparedRaw.get(text)
      if (statement === undefined) {
        statement = db.prepare(text).raw(true)
        preparedRaw.set(text, statement)
      }
      return statement.get(...params) as unknown[] | undefined
    },
    close: async () => {
      if (owned && db.open) db.close()
    },
  }
}

/** Opens a database file (or `:memory:`) with better-sqlite3, loaded only now. */
export async function openBetterSqlite3(path: string, busyTimeout: number): Promise<BetterSqlite3Like> {
  const { default: Database } = await import('better-sqlite3')
  return new Database(path, { timeout: busyTimeout }) as unknown as BetterSqlite3Like
}
