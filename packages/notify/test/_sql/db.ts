import { randomBytes } from 'node:crypto'
import { dbUnavailable, type Reachability } from '@sessile/core/testing'
import mysql from 'mysql2/promise'
import postgres from 'postgres'

export const PG_URL = process.env.SESSILE_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test'
export const MYSQL_URL = process.env.SESSILE_MYSQL_URL ?? 'mysql://root@127.0.0.1:3306/test'

/** A table name no other test (or engineer) uses at the same time. */
export const uniqueTable = (): string => `notify_${randomBytes(5).toString('hex')}`

export async function reachPg(): Promise<Reachability> {
  const sql = postgres(PG_URL, { max: 1, connect_timeout: 5, onnotice: () => {} })
  try {
    await sql`select 1`
    return dbUnavailable('PostgreSQL', null)
  } catch (error) {
    return dbUnavailable('PostgreSQL', error)
  } finally {
    await sql.end({ timeout: 1 })
  }
}

export async function reachMysql(): Promise<Reachability> {
  try {
    const conn = await mysql.createConnection({ uri: MYSQL_URL, connectTimeout: 5000 })
    await conn.query('select 1')
    await conn.end()
    return dbUnavailable('MySQL/MariaDB', null)
  } catch (error) {
    return dbUnavailable('MySQL/MariaDB', error)
  }
}

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
