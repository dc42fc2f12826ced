import { dbUnavailable, type Reachability } from '@sessile/core/testing'
import mysql from 'mysql2/promise'
import postgres from 'postgres'
import { MYSQL_URL, PG_URL } from './env.js'

// Top-level await in each test file: decides skip (locally) or failure (CI=true) before describe runs.
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

/** Drop test tables through a short-lived admin connection. */
export async function dropPgTables(...tables: string[]): Promise<void> {
  const sql = postgres(PG_URL, { max: 1, onnotice: () => {} })
  try {
    for (const t of tables) await sql.unsafe(`DROP TABLE IF EXISTS "${t.replace(/"/g, '""')}"`)
  } finally {
    await sql.end({ timeout: 1 })
  }
}

export async function dropMysqlTables(...tables: string[]): Promise<void> {
  const conn = await mysql.createConnection({ uri: MYSQL_URL })
  try {
    for (const t of tables) await conn.query(`DROP TABLE IF EXISTS \`${t.replace(/`/g, '``')}\``)
  } finally {
    await conn.end()
  }
}
