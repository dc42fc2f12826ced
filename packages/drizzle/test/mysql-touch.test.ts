import { touchSlack } from '@sessile/core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { SqlSessionStore } from '../src/index.js'
import { mysqlStore } from '../src/mysql.js'
import { type Admin, mysqlAdmin } from './_helpers/admin.js'
import { HOUR, MYSQL_URL, uniqueTable } from './_helpers/env.js'
import { reachMysql } from './_helpers/reach.js'

const reach = await reachMysql()

// The peers keep whole seconds, so InnoDB skips their repeated touches as "no change"; the store
// gets the same saving on purpose, bounded by touchSlack, without giving up millisecond expiry.
describe.skipIf(reach.skip)('mariadb touch and update skip moving the expiry by less than touchSlack', () => {
  const table = uniqueTable('touch')
  let store: SqlSessionStore
  let admin: Admin
  const expiryOf = async (key: string): Promise<string> => {
    const [row] = (await admin.query(
      `SELECT DATE_FORMAT(expiry, '%Y-%m-%d %H:%i:%s.%f') AS e FROM \`${table}\` WHERE \`key\` = ?`,
      [key],
    )) as [{ e: string }]
    return row.e
  }

  beforeAll(async () => {
    store = mysqlStore({ url: MYSQL_URL, table, connectionLimit: 2 })
    await store.ensureSchema()
    admin = mysqlAdmin()
  })
  afterAll(async () => {
    await store?.close()
    await admin?.dropTable(table)
    await admin?.close()
  })

  it('a second touch within the slack leaves the row unchanged; one past it moves the expiry', async () => {
    expect(touchSlack(HOUR)).toBe(1000)
    await store.write({ key: 'k', data: new Uint8Array([1]), ref: null, mode: 'insert', ttl: HOUR })
    expect(await store.touch({ key: 'k', ttl: HOUR })).toBe(true)
    const first = await expiryOf('k')
    await new Promise((r) => setTimeout(r, 20))
    expect(await store.touch({ key: 'k', ttl: HOUR })).toBe(true)
    expect(await expiryOf('k')).toBe(first)
    await new Promise((r) => setTimeout(r, 1100))
    expect(await store.touch({ key: 'k', ttl: HOUR })).toBe(true)
    expect(await expiryOf('k')).not.toBe(first)
  })

  it('a short ttl has a proportionally short slack', async () => {
    // ttl 2 s: slack 20 ms, so a touch 60 ms later is a real write.
    await store.write({ key: 's', data: new Uint8Array([1]), ref: null, mode: 'insert', ttl: 2000 })
    const first = await expiryOf('s')
    await new Promise((r) => setTimeout(r, 60))
    expect(await store.touch({ key: 's', ttl: 2000 })).toBe(true)
    expect(await expiryOf('s')).not.toBe(first)
  })

  it('an update within the slack writes the data and keeps the expiry (expiry_idx untouched); it reports the kept expiry', async () => {
    await store.write({ key: 'u', data: new Uint8Array([1]), ref: null, mode: 'insert', ttl: HOUR })
    const first = await expiryOf('u')
    await new Promise((r) => setTimeout(r, 20))
    const r = await store.write({ key: 'u', data: new Uint8Array([2]), ref: null, mode: 'update', ttl: HOUR })
    expect(r.ok).toBe(true)
    expect(await expiryOf('u')).toBe(first)
    const row = await store.read('u')
    expect(Array.from(row!.data)).toEqual([2])
    expect(r.ok && r.expiry.getTime()).toBe(row!.expiry.getTime())
    expect(r.ok && r.version).toBe(row!.version)
    // Past the slack the expiry moves, and the reported one is the new one.
    await new Promise((r) => setTimeout(r, 1100))
    const moved = await store.write({
      key: 'u',
      data: new Uint8Array([3]),
      ref: null,
      mode: 'update',
      ttl: HOUR,
    })
    expect(await expiryOf('u')).not.toBe(first)
    expect(moved.ok && moved.expiry.getTime()).toBe((await store.read('u'))!.expiry.getTime())
  })

  it('an update given a lease releases it; one without a lease leaves it held', async () => {
    await store.write({ key: 'ul', data: new Uint8Array([1]), ref: null, mode: 'insert', ttl: HOUR })
    expect((await store.lease!({ key: 'ul', token: 'tok-1', ttl: 10_000 })).ok).toBe(true)
    await store.write({ key: 'ul', data: new Uint8Array([2]), ref: null, mode: 'update', ttl: HOUR })
    expect((await store.lease!({ key: 'ul', token: 'tok-2', ttl: 10_000 })).ok).toBe(false)
    await store.write({
      key: 'ul',
      data: new Uint8Array([3]),
      ref: null,
      mode: 'update',
      ttl: HOUR,
      lease: 'tok-1',
    })
    expect((await store.lease!({ key: 'ul', token: 'tok-2', ttl: 10_000 })).ok).toBe(true)
  })

  it('a touch that releases a lease still writes within the slack', async () => {
    await store.write({ key: 'l', data: new Uint8Array([1]), ref: null, mode: 'insert', ttl: HOUR })
    const taken = await store.lease!({ key: 'l', token: 'tok-1', ttl: 10_000 })
    expect(taken.ok).toBe(true)
    expect(await store.touch({ key: 'l', ttl: HOUR, lease: 'tok-1' })).toBe(true)
    // Free again: another token gets it at once.
    expect((await store.lease!({ key: 'l', token: 'tok-2', ttl: 10_000 })).ok).toBe(true)
  })
})
