import { setTimeout as sleep } from 'node:timers/promises'
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest'
import type { SqlSessionStore } from '../src/index.js'
import { mysqlStore } from '../src/mysql.js'
import { pgStore } from '../src/pg.js'
import { type Admin, mysqlAdmin, pgAdmin } from './_helpers/admin.js'
import { bytes, MYSQL_URL, PG_URL, uniqueTable } from './_helpers/env.js'
import { reachMysql, reachPg } from './_helpers/reach.js'

const TEN_MINUTES = 10 * 60_000
const pgReach = await reachPg()
const mysqlReach = await reachMysql()

// PGlite is left out on purpose: it runs inside the app process, so its clock is the app's clock.
const cases = [
  {
    name: 'postgres',
    skip: pgReach.skip,
    admin: pgAdmin,
    store: (table: string) => pgStore({ url: PG_URL, table, max: 2 }),
  },
  {
    name: 'mariadb',
    skip: mysqlReach.skip,
    admin: mysqlAdmin,
    store: (table: string) => mysqlStore({ url: MYSQL_URL, table, connectionLimit: 2 }),
  },
]

/** Run `fn` while this process believes it is `offset` ms away from the real time. */
async function skewed<T>(offset: number, fn: () => Promise<T>): Promise<T> {
  vi.useFakeTimers({ toFake: ['Date'] })
  vi.setSystemTime(new Date(Date.now() + offset))
  try {
    return await fn()
  } finally {
    vi.useRealTimers()
  }
}

describe.each(cases)('app clocks skewed by ±10 minutes agree on expiry: $name', (c) => {
  const table = uniqueTable('skew')
  let ahead: SqlSessionStore
  let behind: SqlSessionStore
  let admin: Admin | undefined

  afterEach(() => {
    vi.useRealTimers()
  })
  afterAll(async () => {
    if (c.skip) return
    await ahead?.close()
    await behind?.close()
    await admin?.dropTable(table)
    await admin?.close()
  })

  it.skipIf(c.skip)('expiry, liveness and sweeping follow the database clock only', async () => {
    admin = c.admin()
    ahead = c.store(table)
    behind = c.store(table)
    await ahead.ensureSchema()
    const dbNow = await ahead.now()
    // Sanity: the fake clock really is 10 minutes off inside `skewed`.
    await skewed(TEN_MINUTES, async () => {
      expect(Math.abs(Date.now() - dbNow.getTime() - TEN_MINUTES)).toBeLessThan(60_000)
    })

    const written = await skewed(TEN_MINUTES, () =>
      ahead.write({ key: 'k-live', data: bytes('x'), ref: 'u', mode: 'insert', ttl: 60_000 }),
    )
    expect(written.ok).toBe(true)
    const expiry = written.ok ? written.expiry.getTime() : 0
    const after = (await behind.now()).getTime()
    // now + 60 s on the database clock, not on the skewed app clock (which would be 10 min off).
    expect(expiry - dbNow.getTime()).toBeLessThanOrEqual(60_000 + (after - dbNow.getTime()))
    expect(expiry - after).toBeGreaterThan(50_000)

    // The server behind the clock sees the same live row with the same expiry.
    const seen = await skewed(-TEN_MINUTES, () => behind.read('k-live'))
    expect(seen?.expiry.getTime()).toBe(expiry)
    expect(Math.abs((seen?.now.getTime() ?? 0) - after)).toBeLessThan(30_000)

    // A short-lived row written by the server ahead is dead for the server behind as soon as the
    // database says so, and only the database's verdict counts for the sweep too.
    await skewed(TEN_MINUTES, () =>
      ahead.write({ key: 'k-short', data: bytes('y'), ref: 'u', mode: 'insert', ttl: 1 }),
    )
    await sleep(40)
    expect(await skewed(-TEN_MINUTES, () => behind.read('k-short'))).toBeNull()
    expect(await skewed(-TEN_MINUTES, () => behind.touch({ key: 'k-short', ttl: 60_000 }))).toBe(false)
    const swept = await skewed(TEN_MINUTES, () => ahead.sweep(10))
    expect(swept).toEqual([{ key: 'k-short', ref: 'u' }])
    expect(await skewed(TEN_MINUTES, () => ahead.count())).toBe(1)
    // Touch from the skewed-behind server moves expiry relative to the database clock as well.
    expect(await skewed(-TEN_MINUTES, () => behind.touch({ key: 'k-live', ttl: 120_000 }))).toBe(true)
    const touched = await ahead.read('k-live')
    const remaining = (touched?.expiry.getTime() ?? 0) - (touched?.now.getTime() ?? 0)
    expect(remaining).toBeGreaterThan(110_000)
    expect(remaining).toBeLessThanOrEqual(120_000)
  })
})
