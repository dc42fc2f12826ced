import mysql from 'mysql2/promise'
import postgres from 'postgres'
import { MYSQL_URL, PG_URL } from './env.js'

/** A test's own admin connection (never the store's), for setup, inspection and cleanup. */
export interface Admin {
  query(sql: string, params?: unknown[]): Promise<Record<string, unknown>[]>
  quote(name: string): string
  dropTable(name: string): Promise<void>
  close(): Promise<void>
}

export function pgAdmin(): Admin {
  const sql = postgres(PG_URL, { max: 1, onnotice: () => {} })
  const quote = (n: string) => `"${n.replace(/"/g, '""')}"`
  return {
    query: async (text, params = []) =>
      (await sql.unsafe(text, params as never[])) as unknown as Record<string, unknown>[],
    quote,
    dropTable: async (name) => {
      await sql.unsafe(`DROP TABLE IF EXISTS ${quote(name)}`)
    },
    close: () => sql.end({ timeout: 1 }),
  }
}

export function mysqlAdmin(): Admin {
  const pool = mysql.createPool({ uri: MYSQL_URL, connectionLimit: 1 })
  const quote = (n: string) => `\`${n.replace(/`/g, '``')}\``
  return {
    query: async (text, params = []) => {
      const [rows] = await pool.query(text, params)
      return rows as Record<string, unknown>[]
    },
    quote,
    dropTable: async (name) => {
      await pool.query(`DROP TABLE IF EXISTS ${quote(name)}`)
    },
    close: () => pool.end(),
  }
}
