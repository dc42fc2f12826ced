import { MYSQL_URL, PG_URL, uniqueTable as sharedUniqueTable } from '@sessile/drizzle/testing'
import mysql from 'mysql2/promise'
import postgres from 'postgres'

export { reachMysql, reachPg } from '@sessile/drizzle/testing'
export { MYSQL_URL, PG_URL }

/** A table name no other test (or engineer) uses at the same time. */
export const uniqueTable = (): string => sharedUniqueTable('filters_e2e')

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
