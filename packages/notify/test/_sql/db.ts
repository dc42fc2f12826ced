import { uniqueTable as sharedUniqueTable } from '@sessile/drizzle/testing'
import type mysql from 'mysql2/promise'

export { MYSQL_URL, PG_URL, reachMysql, reachPg } from '@sessile/drizzle/testing'

/** A table name no other test (or engineer) uses at the same time. */
export const uniqueTable = (): string => sharedUniqueTable('notify')

type Query = (text: string, params: unknown[]) => Promise<unknown>

/**
 * Insert expired rows in bulk, straight into the table `@sessile/drizzle` documents
 * (`pgSessionsTable`): times come from the database clock, an hour in the past.
 */
export async function seedPg(
  query: Query,
  table: string,
  prefix: string,
  count: number,
  ref: (i: number) => string | null,
): Promise<void> {
  const keys = Array.from({ length: count }, (_, i) => `${prefix}-${i}`)
  const refs = Array.from({ length: count }, (_, i) => ref(i))
  await query(
    `INSERT INTO "${table}" (key, data, ref, created, modified, expiry, version)
     SELECT k, '\\x01'::bytea, r, now() - interval '2 hours', now() - interval '2 hours', now() - interval '1 hour', 1
     FROM unnest($1::text[], $2::text[]) AS u(k, r)`,
    [keys, refs],
  )
}

/** The same for MySQL/MariaDB (`mysqlSessionsTable`): UTC times from the server clock. */
export async function seedMysql(
  conn: mysql.Connection,
  table: string,
  prefix: string,
  count: number,
  ref: (i: number) => string | null,
): Promise<void> {
  const past = (h: number) => `UTC_TIMESTAMP(3) - INTERVAL ${h} HOUR`
  for (let start = 0; start < count; start += 1000) {
    const n = Math.min(1000, count - start)
    const tuples = Array.from({ length: n }, () => `(?, x'01', ?, ${past(2)}, ${past(2)}, ${past(1)}, 1)`)
    const params = Array.from({ length: n }, (_, j) => [`${prefix}-${start + j}`, ref(start + j)]).flat()
    await conn.query(
      `INSERT INTO \`${table}\` (\`key\`, data, ref, created, modified, expiry, version) VALUES ${tuples.join(',')}`,
      params,
    )
  }
}
