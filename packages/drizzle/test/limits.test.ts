import { randomBytes } from 'node:crypto'
import { isSessionError } from '@sessile/core'
import { afterAll, describe, expect, it } from 'vitest'
import type { SqlSessionStore } from '../src/index.js'
import { mysqlStore } from '../src/mysql.js'
import { type Admin, mysqlAdmin } from './_helpers/admin.js'
import { HOUR, MYSQL_URL, uniqueTable } from './_helpers/env.js'
import { reachMysql } from './_helpers/reach.js'

const mysqlReach = await reachMysql()

describe.skipIf(mysqlReach.skip)('maxDataBytes on mariadb follows max_allowed_packet', () => {
  const table = uniqueTable('limit')
  const admin: Admin = mysqlAdmin()
  const stores: SqlSessionStore[] = []
  afterAll(async () => {
    for (const s of stores) await s.close()
    await admin.dropTable(table)
    await admin.close()
  })

  it('advertises a limit the server really accepts, and refuses one byte more before sending', {
    timeout: 60_000,
  }, async () => {
    const [{ p }] = (await admin.query('SELECT @@max_allowed_packet AS p')) as [{ p: number }]
    // Asking for more than the server can take is lowered to what it can.
    const store = mysqlStore({ url: MYSQL_URL, table, connectionLimit: 1, maxDataBytes: 1024 * 1024 * 1024 })
    stores.push(store)
    await store.ensureSchema()
    expect(store.maxDataBytes).toBeLessThan(Number(p))
    expect(store.maxDataBytes).toBeGreaterThan(Number(p) - 64 * 1024)

    const data = randomBytes(store.maxDataBytes)
    const w = await store.write({ key: 'big', data, ref: null, mode: 'upsert', ttl: HOUR })
    expect(w.ok).toBe(true)
    const back = await store.read('big')
    expect(back?.data.byteLength).toBe(data.length)
    expect(Buffer.from(back!.data).equals(data)).toBe(true)

    const over = new Uint8Array(store.maxDataBytes + 1)
    await expect(
      store.write({ key: 'big', data: over, ref: null, mode: 'upsert', ttl: HOUR }),
    ).rejects.toSatisfy((e) => isSessionError(e) && e.code === 'E_TOO_LARGE')
    expect((await store.read('big'))?.version).toBe(1)
  })
})
