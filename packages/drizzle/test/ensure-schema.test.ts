import { randomBytes } from 'node:crypto'
import { isSessionError } from '@sessile/core'
import { afterAll, describe, expect, it } from 'vitest'
import type { SqlSessionStore } from '../src/index.js'
import { mysqlStore } from '../src/mysql.js'
import { pgStore } from '../src/pg.js'
import { type Admin, mysqlAdmin, pgAdmin } from './_helpers/admin.js'
import { bytes, HOUR, MYSQL_URL, PG_URL, uniqueTable } from './_helpers/env.js'
import { FlakyProxy } from './_helpers/proxy.js'
import { reachMysql, reachPg } from './_helpers/reach.js'

const pgReach = await reachPg()
const mysqlReach = await reachMysql()
const isStoreError = (e: unknown) => isSessionError(e) && e.code === 'E_STORE'
const COLUMNS = ['created', 'data', 'expiry', 'key', 'lease', 'lease_expiry', 'modified', 'ref', 'version']

describe.skipIf(pgReach.skip)('ensureSchema on postgres', () => {
  const table = uniqueTable('ensure')
  const schema = `sessile_${randomBytes(4).toString('hex')}`
  const stores: SqlSessionStore[] = []
  const admin: Admin = pgAdmin()

  afterAll(async () => {
    for (const s of stores) await s.close()
    await admin.dropTable(table)
    await admin.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`)
    await admin.close()
  })

  it('succeeds when 8 app servers run it at once, and again afterwards', async () => {
    for (let i = 0; i < 8; i++) stores.push(pgStore({ url: PG_URL, table, max: 1 }))
    const results = await Promise.allSettled(stores.map((s) => s.ensureSchema()))
    expect(results.filter((r) => r.status === 'rejected')).toEqual([])
    await Promise.all(stores.map((s) => s.ensureSchema()))
    const cols = await admin.query(
      `SELECT column_name AS c FROM information_schema.columns WHERE table_name = $1 ORDER BY column_name`,
      [table],
    )
    expect(cols.map((r) => r.c)).toEqual(COLUMNS)
    const idx = await admin.query(`SELECT indexdef FROM pg_indexes WHERE tablename = $1`, [table])
    expect(idx.map((r) => String(r.indexdef).replace(/^.* USING /, '')).sort()).toEqual([
      'btree (expiry)',
      'btree (key)',
      'btree (ref)',
    ])
    const w = await stores[3]!.write({ key: 'k', data: bytes('x'), ref: null, mode: 'insert', ttl: HOUR })
    expect(w.ok).toBe(true)
  })

  it('is retried after a failure instead of remembering it', async () => {
    const store = pgStore({ url: PG_URL, table: 'sessions', schema, max: 1 })
    stores.push(store)
    // The schema does not exist yet: both the explicit and the lazy start-up fail...
    await expect(store.ensureSchema()).rejects.toSatisfy(isStoreError)
    await expect(store.count()).rejects.toSatisfy(isStoreError)
    // ...and both work once it does, on the same store instance.
    await admin.query(`CREATE SCHEMA "${schema}"`)
    expect(await store.count()).toBe(0)
    await store.ensureSchema()
    const w = await store.write({ key: 'k', data: bytes('x'), ref: null, mode: 'insert', ttl: HOUR })
    expect(w.ok).toBe(true)
  })
})

describe.skipIf(mysqlReach.skip)('ensureSchema on mariadb', () => {
  const table = uniqueTable('ensure')
  const stores: SqlSessionStore[] = []
  const admin: Admin = mysqlAdmin()
  const proxy = new FlakyProxy('127.0.0.1', Number(new URL(MYSQL_URL).port || 3306))

  afterAll(async () => {
    for (const s of stores) await s.close()
    await proxy.down()
    await admin.dropTable(table)
    await admin.close()
  })

  it('succeeds when 8 app servers run it at once, and again afterwards', async () => {
    for (let i = 0; i < 8; i++) stores.push(mysqlStore({ url: MYSQL_URL, table, connectionLimit: 1 }))
    const results = await Promise.allSettled(stores.map((s) => s.ensureSchema()))
    expect(results.filter((r) => r.status === 'rejected')).toEqual([])
    await Promise.all(stores.map((s) => s.ensureSchema()))
    const cols = await admin.query(
      `SELECT column_name AS c, column_type AS t FROM information_schema.columns
       WHERE table_schema = DATABASE() AND table_name = ? ORDER BY column_name`,
      [table],
    )
    expect(cols.map((r) => String(r.c))).toEqual(COLUMNS)
    expect(cols.find((r) => String(r.c) === 'key')?.t).toBe('varbinary(255)')
    const idx = await admin.query(
      `SELECT DISTINCT index_name AS i FROM information_schema.statistics
       WHERE table_schema = DATABASE() AND table_name = ? ORDER BY index_name`,
      [table],
    )
    expect(idx.map((r) => String(r.i))).toEqual(['expiry_idx', 'PRIMARY', 'ref_idx'])
  })

  it('is retried after a failure: a server that is down at start-up is picked up later', async () => {
    const port = await proxy.reserve()
    const url = new URL(MYSQL_URL)
    url.port = String(port)
    const store = mysqlStore({ url: url.toString(), table, connectionLimit: 2, connectTimeout: 2000 })
    stores.push(store)
    await expect(store.ensureSchema()).rejects.toSatisfy(isStoreError)
    await expect(store.count()).rejects.toSatisfy(isStoreError)
    await proxy.up()
    await store.ensureSchema()
    const w = await store.write({ key: 'via-proxy', data: bytes('x'), ref: null, mode: 'upsert', ttl: HOUR })
    expect(w.ok).toBe(true)
    expect(await store.read('via-proxy')).not.toBeNull()
  })
})
