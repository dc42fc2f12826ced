import { randomBytes } from 'node:crypto'
import { isSessionError } from '@sessile/core'
import mysql from 'mysql2/promise'
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

/**
 * Three workers run writes and reads; `disrupt` fires once traffic is under way. Operations in
 * flight at that moment may fail, but only with a typed E_STORE, and never crash the process.
 */
async function traffic(store: SqlSessionStore, disrupt: () => Promise<void>) {
  const failures: unknown[] = []
  let done = 0
  let fired: Promise<void> | undefined
  await Promise.all(
    Array.from({ length: 3 }, async (_, w) => {
      for (let i = 0; i < 60; i++) {
        if (++done === 40) fired = disrupt()
        const key = `w${w}-${i % 5}`
        try {
          await store.write({ key, data: bytes(`v${i}`), ref: `w${w}`, mode: 'upsert', ttl: HOUR })
          await store.read(key)
        } catch (error) {
          failures.push(error)
        }
      }
    }),
  )
  await fired
  for (const f of failures) expect(isSessionError(f) && f.code === 'E_STORE').toBe(true)
  return failures
}

async function allSucceed(store: SqlSessionStore): Promise<void> {
  for (let i = 0; i < 10; i++) {
    const key = `after-${i}`
    const w = await store.write({ key, data: bytes('ok'), ref: 'after', mode: 'insert', ttl: HOUR })
    expect(w.ok).toBe(true)
    expect((await store.read(key))?.version).toBe(1)
  }
  expect(await store.destroyByRef('after')).toHaveLength(10)
  expect(Array.isArray(await store.sweep(10))).toBe(true)
}

describe.skipIf(pgReach.skip)('postgres: connections killed under the store', () => {
  const table = uniqueTable('reconn')
  const app = `sessile-test-${randomBytes(4).toString('hex')}`
  const admin: Admin = pgAdmin()
  const stores: SqlSessionStore[] = []
  const proxy = new FlakyProxy('127.0.0.1', Number(new URL(PG_URL).port || 5432))

  afterAll(async () => {
    for (const s of stores) await s.close()
    await proxy.down()
    await admin.dropTable(table)
    await admin.close()
  })

  const terminateOurs = async () => {
    // Only backends of this test's own application_name: never anyone else's connections.
    const rows = await admin.query(
      `SELECT pg_terminate_backend(pid) AS t FROM pg_stat_activity WHERE application_name = $1 AND pid <> pg_backend_pid()`,
      [app],
    )
    return rows.length
  }

  it('pg_terminate_backend of every store connection mid-traffic: next operations succeed', async () => {
    const store = pgStore({ url: PG_URL, table, max: 3, applicationName: app })
    stores.push(store)
    await store.ensureSchema()
    let killed = 0
    await traffic(store, async () => {
      killed = await terminateOurs()
    })
    expect(killed).toBeGreaterThan(0)
    await allSucceed(store)
    // Idle connections killed too: the pool replaces them on the next call.
    expect(await terminateOurs()).toBeGreaterThan(0)
    await allSucceed(store)
  })

  it('a server that is down at start-up and drops every connection later is reconnected to', async () => {
    const port = await proxy.reserve()
    const url = new URL(PG_URL)
    url.port = String(port)
    const store = pgStore({ url: url.toString(), table, max: 2, connectTimeout: 2 })
    stores.push(store)
    await expect(store.count()).rejects.toSatisfy((e) => isSessionError(e) && e.code === 'E_STORE')
    await proxy.up()
    await allSucceed(store)
    await traffic(store, async () => {
      await proxy.down()
      await proxy.up()
    })
    await allSucceed(store)
  })
})

describe.skipIf(mysqlReach.skip)('mariadb: connections killed under the store', () => {
  const table = uniqueTable('reconn')
  const admin: Admin = mysqlAdmin()
  const stores: SqlSessionStore[] = []

  afterAll(async () => {
    for (const s of stores) await s.close()
    await admin.dropTable(table)
    await admin.close()
  })

  /**
   * The ids of the store's own pooled connections: with the table write-locked by a connection of
   * ours, each of the store's connections blocks on a statement naming our unique table, which
   * identifies it in the processlist. Nobody else's connection can match.
   */
  async function storeConnectionIds(store: SqlSessionStore, size: number): Promise<number[]> {
    const locker = await mysql.createConnection({ uri: MYSQL_URL })
    try {
      await locker.query(`LOCK TABLES \`${table}\` WRITE`)
      const blocked = Array.from({ length: size }, () => store.count())
      let ids: number[] = []
      for (let i = 0; i < 100 && ids.length < size; i++) {
        await new Promise((resolve) => setTimeout(resolve, 20))
        const [rows] = await locker.query(
          'SELECT id FROM information_schema.processlist WHERE id <> CONNECTION_ID() AND info LIKE ?',
          [`%\`${table}\`%`],
        )
        ids = (rows as { id: number }[]).map((r) => Number(r.id))
      }
      await locker.query('UNLOCK TABLES')
      await Promise.all(blocked)
      return ids
    } finally {
      await locker.end()
    }
  }

  const kill = async (ids: number[]) => {
    for (const id of ids) await admin.query('KILL ?', [id]).catch(() => {})
  }

  it('KILL of every store connection mid-traffic: next operations succeed', async () => {
    const store = mysqlStore({ url: MYSQL_URL, table, connectionLimit: 3 })
    stores.push(store)
    await store.ensureSchema()
    const ids = await storeConnectionIds(store, 3)
    expect(ids).toHaveLength(3)
    await traffic(store, () => kill(ids))
    await allSucceed(store)
    // Idle connections killed too: the pool drops them and opens new ones.
    const again = await storeConnectionIds(store, 3)
    expect(again.some((id) => ids.includes(id))).toBe(false)
    await kill(again)
    await new Promise((resolve) => setTimeout(resolve, 50))
    await allSucceed(store)
  })
})
