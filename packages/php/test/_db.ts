import {
  dropMysqlTables,
  dropPgTables,
  MYSQL_URL,
  PG_URL,
  reachMysql,
  reachPg,
  uniqueTable,
} from '@sessile/drizzle/testing'
import mysql from 'mysql2/promise'
import postgres from 'postgres'

export { MYSQL_URL, PG_URL, reachMysql, reachPg }
export const table = (): string => uniqueTable('php_sess')

/** Raw SQL on a test database, to see and write what PHP would. */
export interface Raw {
  query(text: string, params?: unknown[]): Promise<Record<string, unknown>[]>
  drop(table: string): Promise<void>
  close(): Promise<void>
}

export function pgRaw(): Raw {
  const sql = postgres(PG_URL, { max: 1, onnotice: () => {} })
  return {
    query: (text, params = []) =>
      sql.unsafe(text, params as never[]) as unknown as Promise<Record<string, unknown>[]>,
    drop: (t) => dropPgTables(t),
    close: () => sql.end({ timeout: 5 }),
  }
}

export async function mysqlRaw(): Promise<Raw> {
  const conn = await mysql.createConnection({ uri: MYSQL_URL })
  return {
    query: async (text, params = []) => {
      const text2 = text.replace(/\$\d+/g, '?').replaceAll('"', '`')
      return (await conn.query(text2, params))[0] as Record<string, unknown>[]
    },
    drop: (t) => dropMysqlTables(t),
    close: () => conn.end(),
  }
}
