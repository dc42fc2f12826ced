import { customType, datetime, index, int, mysqlTable, varchar } from 'drizzle-orm/mysql-core'

// VARBINARY compares every byte (no collation, no PAD SPACE): 'a' and 'a ' stay two keys.
const varbinaryText = (length: number) =>
  customType<{ data: string; driverData: Buffer | string }>({
    dataType: () => `varbinary(${length})`,
    fromDriver: (value) => (typeof value === 'string' ? value : value.toString('utf8')),
  })

const longblob = customType<{ data: Uint8Array; driverData: Buffer }>({
  dataType: () => 'longblob',
})

/**
 * The Drizzle definition of the session table for MySQL 8 and MariaDB 10.6+. Add it to your
 * schema so drizzle-kit migrations create it, then pass `createTable: false` to the store.
 * Times are UTC `DATETIME(3)` written from the server's `UTC_TIMESTAMP(3)`.
 *
 * @example
 * // schema.ts
 * export const sessions = mysqlSessionsTable('sessions')
 */
export function mysqlSessionsTable(name = 'sessions') {
  return mysqlTable(
    name,
    {
      key: varbinaryText(255)('key').primaryKey(),
      data: longblob('data').notNull(),
      // 255 characters of UTF-8.
      ref: varbinaryText(1020)('ref'),
      created: datetime('created', { fsp: 3 }).notNull(),
      modified: datetime('modified', { fsp: 3 }).notNull(),
      expiry: datetime('expiry', { fsp: 3 }).notNull(),
      version: int('version').notNull(),
      /** Reserved for a future serialised-session lease; unused, always NULL for now. */
      lease: varchar('lease', { length: 64 }),
      /** Reserved with `lease`. */
      leaseExpiry: datetime('lease_expiry', { fsp: 3 }),
    },
    // Index names are per table on MySQL, so fixed names cannot collide between tables.
    (t) => [index('ref_idx').on(t.ref), index('expiry_idx').on(t.expiry)],
  )
}
