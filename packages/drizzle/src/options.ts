import type { LeaseRequest, LeaseResult, SessionStore } from '@sessile/core'

/** Options every SQL store of this package accepts. */
export interface SqlStoreOptions {
  /**
   * The table that holds the sessions. Any string works: it only ever reaches SQL as a quoted
   * identifier, so a name with quotes or semicolons is stored as exactly that name.
   * @default 'sessions'
   */
  table?: string
  /**
   * Create the table and its indexes (`CREATE ... IF NOT EXISTS`) on first use. Turn it off when
   * your own drizzle-kit migrations own the table.
   * @default true
   */
  createTable?: boolean
  /**
   * The largest payload accepted, in bytes. Larger writes fail with `E_TOO_LARGE` before any query.
   * On MySQL/MariaDB it is further capped by the server's `max_allowed_packet`, read at start-up.
   * @default 16 MiB
   */
  maxDataBytes?: number
  /**
   * Statements of one kind (reads, destroys) in flight at once. A call that finds them all out
   * waits, and the calls that waited go together as one statement (`SELECT … WHERE key IN (…)`,
   * `DELETE … WHERE key IN (…) RETURNING …`, up to 32 keys) as soon as one comes back: under load
   * one statement, one round trip and one commit serve many calls. A call that finds a lane free
   * is sent at once, and no timer paces the batches. `Infinity` sends every call on its own.
   * (MySQL 8, which has no `DELETE … RETURNING`, sends each destroy on its own.)
   * @default 2
   */
  lanes?: number
}

/** A SQL session store: the core contract plus schema management. */
export interface SqlSessionStore extends SessionStore {
  /** The table name as given (unquoted). */
  readonly table: string
  /**
   * Create the table and indexes if they are missing. Idempotent, safe when several app servers
   * run it at once, and retried on the next call after a failure.
   */
  ensureSchema(): Promise<void>
  /** Serialised mode's row lease (see `SessionStore.lease`); every SQL store has it. */
  lease(request: LeaseRequest): Promise<LeaseResult>
  release(key: string, token: string): Promise<boolean>
}
