import { randomBytes } from 'node:crypto'
import { dbUnavailable, type Reachability } from '@sessile/core/testing'
import mysql from 'mysql2/promise'
import postgres from 'postgres'

export const PG_URL = process.env.SESSILE_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test'
export const MYSQL_URL = process.env.SESSILE_MYSQL_URL ?? 'mysql://root@127.0.0.1:3306/test'

/** A table name no other test or engineer uses at the same time. */
export const uniqueTable = (): string => `filters_e2e_${randomBytes(5).toString('hex')}`

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

/** Direct access to a session table's `data` column, bypassing the store. */
export interface RawTable {
  get(key: string): Promise<Buffer>
  set(key: string, data: Uint8Array): Promise<void>
  drop(): Promise<void>
  close(): Promise<void>
}

const q = (name: string, quote: string) => `${quote}${name.replaceAll(quote, quote + quote)}${quote}`

export function pgRaw(
  query: (text: string, params: unknown[]) => Promise<unknown[]>,
  table: string,
): Omit<RawTable, 'close'> {
  const t = q(table, '"')
  return {
    async get(key) {
      const rows = (await query(`SELECT data FROM ${t} WHERE key = $1`, [key])) as { data: Uint8Array }[]
      if (!rows[0]) throw new Error(`no row ${key}`)
      return Buffer.from(rows[0].data)
    },
    async set(key, data) {
      await query(`UPDATE ${t} SET data = $1 WHERE key = $2`, [Buffer.from(data), key])
    },
    async drop() {
      await query(`DROP TABLE IF EXISTS ${t}`, [])
    },
  }
}

export async function pgServerRaw(table: string): Promise<RawTable> {
  const sql = postgres(PG_URL, {
    max: 1,
    onnotice: () => {},
    connection: { application_name: 'sessile-filters-e2e' },
  })
  return {
    ...pgRaw((text, params) => sql.unsafe(text, params as never[]), table),
    close: () => sql.end({ timeout: 5 }),
  }
}

export async function mysqlRaw(table: string): Promise<RawTable> {
  const conn = await mysql.createConnection({ uri: MYSQL_URL })
  const t = q(table, '`')
  return {
    async get(key) {
      const [rows] = (await conn.query(`SELECT data FROM ${t} WHERE \`key\` = ?`, [key])) as unknown as [
        { data: Buffer }[],
      ]
      if (!rows[0]) throw new Error(`no row ${key}`)
      return Buffer.from(rows[0].data)
    },
    async set(key, data) {
      await conn.query(`UPDATE ${t} SET data = ? WHERE \`key\` = ?`, [Buffer.from(data), key])
    },
    async drop() {
      await conn.query(`DROP TABLE IF EXISTS ${t}`)
    },
    close: () => conn.end(),
  }
}
