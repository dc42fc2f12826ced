import { afterAll, describe, expect, it } from 'vitest'
import type { SqlSessionStore } from '../src/index.js'
import { mysqlStore } from '../src/mysql.js'
import { pgStore } from '../src/pg.js'
import { type Admin, mysqlAdmin, pgAdmin } from './_helpers/admin.js'
import { MYSQL_URL, PG_URL, uniqueTable } from './_helpers/env.js'
import { reachMysql, reachPg } from './_helpers/reach.js'

const EXPIRED = 2000
const LIVE = 50

interface Case {
  name: string
  skip: boolean
  admin: () => Admin
  store: (table: string) => SqlSessionStore
  seed: (admin: Admin, table: string) => Promise<void>
}

const pgReach = await reachPg()
const mysqlReach = await reachMysql()

const cases: Case[] = [
  {
    name: 'postgres',
    skip: pgReach.skip,
    admin: pgAdmin,
    store: (table) => pgStore({ url: PG_URL, table, max: 2 }),
    seed: async (admin, table) => {
      const t = admin.quote(table)
      await admin.query(`INSERT INTO ${t} (key, data, ref, created, modified, expiry, version)
        SELECT 'dead-' || g, '\\x00'::bytea, 'ref-' || (g % 13), now() - interval '1 hour', now() - interval '1 hour',
               now() - interval '1 second' * g, 1 FROM generate_series(1, ${EXPIRED}) g`)
      await admin.query(`INSERT INTO ${t} (key, data, ref, created, modified, expiry, version)
        SELECT 'live-' || g, '\\x00'::bytea, NULL, now(), now(), now() + interval '1 hour', 1 FROM generate_series(1, ${LIVE}) g`)
    },
  },
  {
    name: 'mariadb',
    skip: mysqlReach.skip,
    admin: mysqlAdmin,
    store: (table) => mysqlStore({ url: MYSQL_URL, table, connectionLimit: 2 }),
    seed: async (admin, table) => {
      const t = admin.quote(table)
      const dead = Array.from({ length: EXPIRED }, (_, i) => [`dead-${i + 1}`, `ref-${(i + 1) % 13}`, i + 1])
      await admin.query(
        `INSERT INTO ${t} (\`key\`, data, ref, created, modified, expiry, version)
         SELECT k, X'00', r, UTC_TIMESTAMP(3) - INTERVAL 1 HOUR, UTC_TIMESTAMP(3) - INTERVAL 1 HOUR,
                UTC_TIMESTAMP(3) - INTERVAL s SECOND, 1
         FROM JSON_TABLE(?, '$[*]' COLUMNS (k VARCHAR(64) PATH '$[0]', r VARCHAR(64) PATH '$[1]', s INT PATH '$[2]')) AS j`,
        [JSON.stringify(dead)],
      )
      const live = Array.from({ length: LIVE }, (_, i) => [`live-${i + 1}`])
      await admin.query(
        `INSERT INTO ${t} (\`key\`, data, ref, created, modified, expiry, version)
         SELECT k, X'00', NULL, UTC_TIMESTAMP(3), UTC_TIMESTAMP(3), UTC_TIMESTAMP(3) + INTERVAL 1 HOUR, 1
         FROM JSON_TABLE(?, '$[*]' COLUMNS (k VARCHAR(64) PATH '$[0]')) AS j`,
        [JSON.stringify(live)],
      )
    },
  },
]

describe.each(cases)('four app servers sweeping one table: $name', (c) => {
  const table = uniqueTable('sweep')
  const stores: SqlSessionStore[] = []
  let admin: Admin

  afterAll(async () => {
    if (c.skip) return
    for (const s of stores) await s.close()
    await admin.dropTable(table)
    await admin.close()
  })

  it.skipIf(c.skip)(
    `hands each of ${EXPIRED} expired rows to exactly one sweeper and leaves live rows alone`,
    { timeout: 60_000 },
    async () => {
      admin = c.admin()
      // Separate stores, separate pools: four processes as far as the database can tell.
      for (let i = 0; i < 4; i++) stores.push(c.store(table))
      await Promise.all(stores.map((s) => s.ensureSchema()))
      await c.seed(admin, table)

      const perSweeper = await Promise.all(
        stores.map(async (s) => {
          const got: { key: string; ref: string | null }[] = []
          for (;;) {
            const batch = await s.sweep(60)
            expect(batch.length).toBeLessThanOrEqual(60)
            if (batch.length === 0) return got
            got.push(...batch)
          }
        }),
      )
      const all = perSweeper.flat()
      expect(all).toHaveLength(EXPIRED)
      expect(new Set(all.map((r) => r.key)).size).toBe(EXPIRED)
      for (const r of all) {
        const n = Number(r.key.slice('dead-'.length))
        expect(r.ref).toBe(`ref-${n % 13}`)
      }
      expect(await stores[0]!.count()).toBe(LIVE)
      expect(await stores[1]!.sweep(100)).toEqual([])
    },
  )
})
