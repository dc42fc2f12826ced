import {
  type AnyPgColumn,
  customType,
  index,
  integer,
  pgSchema,
  pgTable,
  timestamp,
  varchar,
} from 'drizzle-orm/pg-core'
import { pgIndexName } from '../ident.js'

// "C" collation compares UTF-8 bytes: keys are case-, accent- and space-exact and sort like the
// other stores (binary order), whatever the database's default collation is.
const binaryText = customType<{ data: string; driverData: string }>({
  dataType: () => 'text COLLATE "C"',
})

const bytea = customType<{ data: Uint8Array; driverData: Uint8Array }>({
  dataType: () => 'bytea',
})

const columns = {
  key: binaryText('key').primaryKey(),
  data: bytea('data').notNull(),
  ref: binaryText('ref'),
  created: timestamp('created', { precision: 3, withTimezone: true }).notNull(),
  modified: timestamp('modified', { precision: 3, withTimezone: true }).notNull(),
  expiry: timestamp('expiry', { precision: 3, withTimezone: true }).notNull(),
  version: integer('version').notNull(),
  /** Reserved for a future serialised-session lease; unused, always NULL for now. */
  lease: varchar('lease', { length: 64 }),
  /** Reserved with `lease`. */
  leaseExpiry: timestamp('lease_expiry', { precision: 3, withTimezone: true }),
}

/**
 * The Drizzle definition of the session table for PostgreSQL and PGlite. Add it to your schema
 * so drizzle-kit migrations create (and keep) it, then pass `createTable: false` to the store.
 *
 * @example
 * // schema.ts
 * export const sessions = pgSessionsTable('sessions')
 */
export function pgSessionsTable(name = 'sessions', schema?: string) {
  const extras = (t: { ref: AnyPgColumn; expiry: AnyPgColumn }) => [
    index(pgIndexName(name, 'ref_idx')).on(t.ref),
    index(pgIndexName(name, 'expiry_idx')).on(t.expiry),
  ]
  return schema === undefined
    ? pgTable(name, columns, extras)
    : (pgSchema(schema).table(name, columns, extras) as unknown as ReturnType<
        typeof pgTable<string, typeof columns>
      >)
}
