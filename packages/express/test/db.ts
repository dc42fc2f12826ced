import { randomBytes } from 'node:crypto'
import { createTcpProxy, dbUnavailable, type TcpProxy } from '@sessile/core/testing'
import { pgStore } from '@sessile/drizzle/pg'
import postgres from 'postgres'

export const PG_URL = process.env.SESSILE_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test'
const APP = `sessile-test-${randomBytes(4).toString('hex')}`

/** Whether PostgreSQL answers; unreachable skips loudly (fails under CI=true). */
export async function pgReachability() {
  const sql = postgres(PG_URL, { max: 1, connect_timeout: 5, onnotice: () => {} })
  try {
    await sql`select 1`
    return dbUnavailable('PostgreSQL', null)
  } catch (e) {
    return dbUnavailable('PostgreSQL', e)
  } finally {
    await sql.end({ timeout: 1 }).catch(() => {})
  }
}

/** Tables made for one test file, each with a random suffix, dropped by `dropAll`. */
export function pgTables(prefix: string) {
  const tables: string[] = []
  let proxy: TcpProxy | undefined
  return {
    /** A store on a new table, straight to PostgreSQL. */
    direct() {
      const table = `${prefix}_${randomBytes(5).toString('hex')}`
      tables.push(table)
      return pgStore({ url: PG_URL, table, max: 2, applicationName: APP, connectTimeout: 3 })
    },
    /** A store on a new table, through a TCP proxy the test can cut. */
    async proxied() {
      proxy ??= await createTcpProxy({
        host: new URL(PG_URL).hostname,
        port: Number(new URL(PG_URL).port || 5432),
      })
      const table = `${prefix}_${randomBytes(5).toString('hex')}`
      tables.push(table)
      return pgStore({ url: proxy.url(PG_URL), table, max: 2, applicationName: APP, connectTimeout: 3 })
    },
    get proxy() {
      return proxy
    },
    async dropAll() {
      await proxy?.close()
      const sql = postgres(PG_URL, { max: 1, onnotice: () => {} })
      try {
        for (const t of tables) await sql`drop table if exists ${sql(t)}`
      } finally {
        await sql.end({ timeout: 1 })
      }
    },
  }
}

export const MYSQL_URL = process.env.SESSILE_MYSQL_URL ?? 'mysql://root@127.0.0.1:3306/test'

/** Whether MySQL/MariaDB answers; unreachable skips loudly (fails under CI=true). */
export async function mysqlReachability() {
  const { createConnection } = await import('mysql2/promise')
  try {
    const conn = await createConnection({ uri: MYSQL_URL, connectTimeout: 5000 })
    await conn.end()
    return dbUnavailable('MySQL/MariaDB', null)
  } catch (e) {
    return dbUnavailable('MySQL/MariaDB', e)
  }
}

export async function dropPgTable(table: string): Promise<void> {
  const sql = postgres(PG_URL, { max: 1, onnotice: () => {} })
  try {
    await sql`drop table if exists ${sql(table)}`
  } finally {
    await sql.end({ timeout: 1 })
  }
}

export async function dropMysqlTable(table: string): Promise<void> {
  const { createConnection } = await import('mysql2/promise')
  const conn = await createConnection({ uri: MYSQL_URL })
  try {
    await conn.query(`drop table if exists \`${table.replaceAll('`', '``')}\``)
  } finally {
    await conn.end()
  }
}
