import { PGlite } from '@electric-sql/pglite'
import { isSessionError } from '@sessile/core'
import { eq, sql } from 'drizzle-orm'
import { drizzle as drizzleMysql } from 'drizzle-orm/mysql2'
import { drizzle as drizzlePglite } from 'drizzle-orm/pglite'
import { drizzle as drizzlePg } from 'drizzle-orm/postgres-js'
import mysql from 'mysql2'
import postgres from 'postgres'
import { afterAll, describe, expect, it } from 'vitest'
import { mysqlSessionsTable, mysqlStore } from '../src/mysql.js'
import { pgSessionsTable, pgStore } from '../src/pg.js'
import { pgliteStore } from '../src/pglite.js'
import { bytes, HOUR, MYSQL_URL, PG_URL, text, uniqueTable } from './_helpers/env.js'
import { dropMysqlTables, dropPgTables, reachMysql, reachPg } from './_helpers/reach.js'

const pgReach = await reachPg()
const mysqlReach = await reachMysql()

describe.skipIf(pgReach.skip)("a store on the user's drizzle-orm/postgres-js db", () => {
  const table = uniqueTable('drz')
  const client = postgres(PG_URL, { max: 2, onnotice: () => {} })
  const db = drizzlePg(client)
  afterAll(async () => {
    await dropPgTables(table)
  })

  it('reuses db.$client, matches the exported table definition and leaves the client open on close', async () => {
    const store = pgStore({ db, table })
    const w = await store.write({ key: 'Kk ', data: bytes('payload'), ref: 'u1', mode: 'insert', ttl: HOUR })
    expect(w.ok).toBe(true)
    const sessions = pgSessionsTable(table)
    const [row] = await db.select().from(sessions).where(eq(sessions.key, 'Kk '))
    expect(row?.ref).toBe('u1')
    expect(text(row!.data)).toBe('payload')
    expect(row?.version).toBe(1)
    expect(row?.expiry.getTime()).toBe(w.ok && w.expiry.getTime())
    expect(row?.lease).toBeNull()
    await store.close()
    // close() left the user's client alone...
    expect(await db.execute(sql`select 1 as one`)).toHaveLength(1)
    // ...and the store had no connection of its own: without the user's client it cannot work.
    await client.end({ timeout: 1 })
    await expect(store.count()).rejects.toSatisfy((e) => isSessionError(e) && e.code === 'E_STORE')
  })
})

describe.skipIf(mysqlReach.skip)("a store on the user's drizzle-orm/mysql2 db", () => {
  const table = uniqueTable('drz')
  const pool = mysql.createPool({ uri: MYSQL_URL, connectionLimit: 3 })
  const db = drizzleMysql({ client: pool })
  afterAll(async () => {
    await dropMysqlTables(table)
  })

  it('reuses the callback pool through .promise(), matches the table definition, leaves the pool open', async () => {
    const store = mysqlStore({ db, table })
    const w = await store.write({ key: 'Kk ', data: bytes('payload'), ref: 'u1', mode: 'insert', ttl: HOUR })
    expect(w.ok).toBe(true)
    expect(await store.read('Kk')).toBeNull()
    const sessions = mysqlSessionsTable(table)
    const [row] = await db.select().from(sessions).where(eq(sessions.key, 'Kk '))
    expect(row?.key).toBe('Kk ')
    expect(row?.ref).toBe('u1')
    expect(Buffer.from(row!.data).toString()).toBe('payload')
    expect(await store.sweep(10)).toEqual([])
    expect(await store.destroyByRef('u1')).toEqual([{ key: 'Kk ', ref: 'u1' }])
    await store.close()
    expect(await db.execute(sql`select 1 as one`)).toBeTruthy()
    await pool.promise().end()
    await expect(store.count()).rejects.toSatisfy((e) => isSessionError(e) && e.code === 'E_STORE')
  })
})

describe("a store on the user's drizzle-orm/pglite db", () => {
  let client: PGlite
  afterAll(async () => {
    await client?.close()
  })

  it('shares the PGlite instance with the app and leaves it open', { timeout: 60_000 }, async () => {
    client = await PGlite.create()
    const db = drizzlePglite({ client })
    const store = pgliteStore({ db })
    await store.write({ key: 'k', data: bytes('p'), ref: null, mode: 'upsert', ttl: HOUR })
    const sessions = pgSessionsTable()
    const rows = await db.select({ key: sessions.key, version: sessions.version }).from(sessions)
    expect(rows).toEqual([{ key: 'k', version: 1 }])
    await store.close()
    expect(client.closed).toBe(false)
  })
})
