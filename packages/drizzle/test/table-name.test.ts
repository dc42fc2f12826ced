import { randomBytes } from 'node:crypto'
import { PGlite } from '@electric-sql/pglite'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { SqlSessionStore } from '../src/index.js'
import { mysqlStore } from '../src/mysql.js'
import { pgStore } from '../src/pg.js'
import { pgliteStore } from '../src/pglite.js'
import { type Admin, mysqlAdmin, pgAdmin } from './_helpers/admin.js'
import { bytes, HOUR, MYSQL_URL, PG_URL, text } from './_helpers/env.js'
import { reachMysql, reachPg } from './_helpers/reach.js'

const pgReach = await reachPg()
const mysqlReach = await reachMysql()
const suffix = randomBytes(4).toString('hex')
const canary = `canary_${suffix}`

let pglite: PGlite
beforeAll(async () => {
  pglite = await PGlite.create()
}, 60_000)
afterAll(async () => {
  await pglite?.close()
})

const pgliteAdmin = (): Admin => ({
  query: async (sql, params = []) => (await pglite.query(sql, params)).rows as Record<string, unknown>[],
  quote: (n) => `"${n.replace(/"/g, '""')}"`,
  dropTable: async (n) => {
    await pglite.query(`DROP TABLE IF EXISTS "${n.replace(/"/g, '""')}"`)
  },
  close: async () => {},
})

const pgTables = (admin: Admin) =>
  admin.query(
    `SELECT table_name AS name FROM information_schema.tables WHERE table_schema = current_schema()`,
  )
const mysqlTables = (admin: Admin) =>
  admin.query(`SELECT table_name AS name FROM information_schema.tables WHERE table_schema = DATABASE()`)

const cases = [
  {
    name: 'postgres',
    skip: pgReach.skip,
    admin: pgAdmin,
    tables: pgTables,
    store: (table: string) => pgStore({ url: PG_URL, table, max: 2 }),
    hostile: [`sess"; DROP TABLE ${canary}; --${suffix}`, `s:key $1 '${suffix}`],
  },
  {
    name: 'mariadb',
    skip: mysqlReach.skip,
    admin: mysqlAdmin,
    tables: mysqlTables,
    store: (table: string) => mysqlStore({ url: MYSQL_URL, table, connectionLimit: 2 }),
    hostile: [`sess\`; DROP TABLE ${canary}; --${suffix}`, `sess"'; :key ? ${suffix}`],
  },
  {
    name: 'pglite',
    skip: false,
    admin: pgliteAdmin,
    tables: pgTables,
    store: (table: string) => pgliteStore({ client: pglite, table }),
    hostile: [`sess"; DROP TABLE ${canary}; --${suffix}`],
  },
]

describe.each(cases)('hostile table names are literal names: $name', (c) => {
  let admin: Admin
  const stores: SqlSessionStore[] = []

  afterAll(async () => {
    if (c.skip) return
    for (const s of stores) await s.close()
    for (const t of c.hostile) await admin.dropTable(t)
    await admin.dropTable(canary)
    await admin.close()
  })

  it.skipIf(c.skip)('creates, uses and sweeps a table named with quotes and semicolons', async () => {
    admin = c.admin()
    await admin.query(`CREATE TABLE ${admin.quote(canary)} (id int)`)
    for (const table of c.hostile) {
      const store = c.store(table)
      stores.push(store)
      const w = await store.write({ key: 'k1', data: bytes('v1'), ref: 'r', mode: 'insert', ttl: HOUR })
      expect(w.ok).toBe(true)
      await store.write({ key: 'k1', data: bytes('v2'), ref: 'r', mode: 'update', ttl: HOUR, version: 1 })
      expect(text((await store.read('k1'))!.data)).toBe('v2')
      expect(await store.touch({ key: 'k1', ttl: HOUR, maxAge: 2 * HOUR })).toBe(true)
      expect((await store.findByRef('r')).map((s) => s.key)).toEqual(['k1'])
      expect((await store.list({ limit: 5 })).map((s) => s.key)).toEqual(['k1'])
      expect(await store.refs(5)).toEqual(['r'])
      await store.write({ key: 'gone', data: bytes('x'), ref: null, mode: 'upsert', ttl: 1 })
      await new Promise((resolve) => setTimeout(resolve, 30))
      expect(await store.sweep(10)).toEqual([{ key: 'gone', ref: null }])
      expect(await store.destroyByRef('r')).toEqual([{ key: 'k1', ref: 'r' }])
      expect(await store.count()).toBe(0)
    }
    const names = (await c.tables(admin)).map((r) => String(r.name))
    for (const table of c.hostile) expect(names).toContain(table)
    expect(names).toContain(canary)
  })
})
