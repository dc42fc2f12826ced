import { type AnySQLiteColumn, blob, index, integer, sqliteTable, text } from 'drizzle-orm/sqlite-core'

// Times are INTEGER epoch milliseconds (UTC), which Drizzle's `timestamp_ms` mode reads as Date.
const columns = {
  key: text('key').primaryKey(),
  data: blob('data', { mode: 'buffer' }).notNull(),
  ref: text('ref'),
  created: integer('created', { mode: 'timestamp_ms' }).notNull(),
  modified: integer('modified', { mode: 'timestamp_ms' }).notNull(),
  expiry: integer('expiry', { mode: 'timestamp_ms' }).notNull(),
  version: integer('version').notNull(),
  /** The serialised mode's lease token; NULL unless a `serialize` manager holds the row. */
  lease: text('lease'),
  /** When the lease lapses. */
  leaseExpiry: integer('lease_expiry', { mode: 'timestamp_ms' }),
}

/**
 * The Drizzle definition of the session table for SQLite and libSQL. Add it to your schema so
 * drizzle-kit migrations create (and keep) it, then pass `createTable: false` to the store.
 *
 * @example
 * // schema.ts
 * export const sessions = sqliteSessionsTable('sessions')
 */
export function sqliteSessionsTable(name = 'sessions') {
  return sqliteTable(name, columns, (t: { ref: AnySQLiteColumn; expiry: AnySQLiteColumn }) => [
    index(`${name}_ref_idx`).on(t.ref),
    index(`${name}_expiry_idx`).on(t.expiry),
  ])
}
