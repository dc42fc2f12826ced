/**
 * `@sessile/drizzle/testing`: what test suites that run against the real databases share — the
 * database URLs (from `SESSILE_PG_URL` / `SESSILE_MYSQL_URL`), reachability probes that skip
 * loudly locally and fail under `CI=true`, uniquely named tables and their clean-up.
 * Imports both drivers; use it from tests only.
 */
import { randomBytes } from 'node:crypto'
import {
  createTcpProxy,
  dbUnavailable,
  type LoadBalancedDatabase,
  type Reachability,
  type TcpProxy,
} from '@sessile/core/testing'
import mysql from 'mysql2/promise'
import postgres from 'postgres'
import { createStore } from './create-store.js'
import type { SqlSessionStore } from './options.js'
import { pgStore } from './pg.js'

export const PG_URL = process.env.SESSILE_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test'
export const MYSQL_URL = process.env.SESSILE_MYSQL_URL ?? 'mysql://root@127.0.0.1:3306/test'

/** A table name no other test (or engineer) uses at the same time. */
export const uniqueTable = (prefix = 'sess'): string => `${prefix}_${randomBytes(5).toString('hex')}`

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

/** PostgreSQL stores on tables made for one test file, each with a random suffix, dropped by `dropAll`. */
export function pgTables(prefix: string) {
  const app = `sessile-test-${randomBytes(4).toString('hex')}`
  const tables: string[] = []
  let proxy: TcpProxy | undefined
  const store = (url: string): SqlSessionStore => {
    const table = uniqueTable(prefix)
    tables.push(table)
    return pgStore({ url, table, max: 2, applicationName: app, connectTimeout: 3 })
  }
  return {
    /** A store on a new table, straight to PostgreSQL. */
    direct: () => store(PG_URL),
    /** A store on a new table, through a TCP proxy the test can cut. */
    async proxied() {
      proxy ??= await createTcpProxy({
        host: new URL(PG_URL).hostname,
        port: Number(new URL(PG_URL).port || 5432),
      })
      return store(proxy.url(PG_URL))
    },
    get proxy() {
      return proxy
    },
    async dropAll() {
      await proxy?.close()
      await dropPgTables(...tables)
    },
  }
}

/**
 * PostgreSQL and MariaDB as `describeLoadBalanced` takes them: each app process gets the URL, the
 * suite's own checks use `createStore(url)`, and an unreachable database skips (fails under CI).
 */
export async function loadBalancedDatabases(): Promise<LoadBalancedDatabase[]> {
  const [pg, mysql] = await Promise.all([reachPg(), reachMysql()])
  return [
    {
      name: 'PostgreSQL',
      url: PG_URL,
      skip: pg.skip,
      store: (table) => createStore(PG_URL, { table }),
      drop: dropPgTables,
    },
    {
      name: 'MariaDB',
      url: MYSQL_URL,
      skip: mysql.skip,
      store: (table) => createStore(MYSQL_URL, { table }),
      drop: dropMysqlTables,
    },
  ]
}
