/**
 * `@sessile/drizzle/pglite`: sessions in embedded PostgreSQL (PGlite, WASM), in memory or in a
 * data directory. The zero-setup default. Only this entry imports the driver.
 */
import { mkdir } from 'node:fs/promises'
import { PGlite } from '@electric-sql/pglite'
import { optionError } from './_internal/options.js'
import { resolvePgOptions } from './_internal/pg/options.js'
import { type PgExecutor, PgSqlStore, type Row } from './_internal/pg/store.js'
import { PglitePrepared } from './_internal/pglite/prepared.js'
import type { SqlSessionStore, SqlStoreOptions } from './options.js'

export { pgSessionsTable } from './_internal/pg/table.js'
export type { SqlSessionStore, SqlStoreOptions } from './options.js'

const NAME = 'pglite'

/**
 * PGlite creates the last directory of `dataDir` but not its parents, so `pglite://./data/sessions`
 * failed with ENOENT on a fresh checkout. URL-style dirs (`idb://`, `memory://`) are PGlite's own.
 */
async function makeDir(dataDir: string | undefined): Promise<void> {
  if (dataDir === undefined || /^[a-z]+:\/\//i.test(dataDir)) return
  await mkdir(dataDir, { recursive: true })
}

/** The part of PGlite the store uses, so any compatible instance can be passed. */
export interface PGliteLike {
  query(text: string, params?: unknown[]): Promise<{ rows: unknown[] }>
  close(): Promise<void>
}

/** Options of {@link pgliteStore}. Give at most one of `dataDir`, `client` or `db`; none means in memory. */
export interface PgliteStoreOptions extends SqlStoreOptions {
  /**
   * A directory for the database files (e.g. `./data/sessions`); unset keeps the database in memory.
   * The store opens PGlite there and closes it on `close()`.
   * @default undefined (in memory)
   */
  dataDir?: string
  /**
   * Your PGlite instance; reused, never closed by the store. PGlite serves one query at a time,
   * so sharing it with your app is the way to run both on one embedded database.
   * @default undefined
   */
  client?: PGliteLike
  /**
   * Your Drizzle database (`drizzle-orm/pglite`); the store reuses `db.$client`.
   * @default undefined
   */
  db?: { $client: PGliteLike }
  /**
   * The schema of the table; unset means `public`.
   * @default undefined
   */
  schema?: string
}

/**
 * A session store in embedded PostgreSQL (PGlite): no server to run, same SQL as `pgStore`.
 * Sessions are shared by everything in this process; for several app servers use `pgStore`.
 *
 * @example
 * import { createSessions } from '@sessile/core'
 * import { pgliteStore } from '@sessile/drizzle/pglite'
 * const sessions = createSessions({ store: pgliteStore({ dataDir: './data/sessions' }) })
 */
export function pgliteStore(options: PgliteStoreOptions = {}): SqlSessionStore {
  const config = resolvePgOptions(NAME, options)
  return new PgSqlStore(NAME, pgliteExecutor(options), config)
}

function pgliteExecutor(options: PgliteStoreOptions): PgExecutor {
  const given = [options.dataDir, options.client, options.db].filter((v) => v !== undefined).length
  if (given > 1) throw optionError(NAME, 'give at most one of dataDir, client or db')
  const borrowed = options.client ?? options.db?.$client
  if (borrowed !== undefined) {
    if (typeof (borrowed as Partial<PGliteLike>).query !== 'function') {
      throw optionError(NAME, 'client must be a PGlite instance and db a drizzle-orm/pglite database')
    }
    return {
      query: async (text, params) => (await borrowed.query(text, params)).rows as Row[],
      close: async () => {},
    }
  }
  if (
    options.dataDir !== undefined &&
    (typeof options.dataDir !== 'string' || options.dataDir.length === 0)
  ) {
    throw optionError(NAME, 'dataDir must be a non-empty path')
  }
  // Opened on first use, and opened again after a failed start (e.g. a locked directory).
  let own: PglitePrepared | undefined
  let opening: Promise<PglitePrepared> | undefined
  let closed = false
  const open = (): Promise<PglitePrepared> => {
    opening ??= makeDir(options.dataDir)
      .then(() => PGlite.create(options.dataDir))
      .then(
        (instance) => {
          own = new PglitePrepared(instance)
          opening = undefined
          return own
        },
        (error: unknown) => {
          opening = undefined
          throw error
        },
      )
    return opening
  }
  return {
    query: async (text, params) => {
      if (closed) throw new Error('the store is closed')
      const runner = own ?? (await open())
      // Closed while it opened.
      if (closed) throw new Error('the store is closed')
      return runner.query(text, params)
    },
    close: async () => {
      closed = true
      const instance = (own ?? (opening ? await opening.catch(() => undefined) : undefined))?.db
      own = undefined
      if (instance && !instance.closed) await instance.close()
    },
  }
}
