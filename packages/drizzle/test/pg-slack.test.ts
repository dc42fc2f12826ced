import { touchSlack } from '@sessile/core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { SqlSessionStore } from '../src/index.js'
import { pgStore } from '../src/pg.js'
import { type Admin, pgAdmin } from './_helpers/admin.js'
import { HOUR, PG_URL, uniqueTable } from './_helpers/env.js'
import { reachPg } from './_helpers/reach.js'

const reach = await reachPg()

// An UPDATE that changes an indexed column adds an entry to every index of the table; one that
// changes none can be a HOT update. Keeping the expiry within touchSlack keeps expiry_idx (and
// with it the key and ref indexes) out of frequent writes and touches, as the peer's
// whole-second expiry does for it.
describe.skipIf(reach.skip)('postgresql update and touch keep the expiry within touchSlack', () => {
  const table = uniqueTable('slack')
  let store: SqlSessionStore
  let admin: Admin
  const expiryOf = async (key: string): Promise<string> => {
    const [row] = await admin.query(`SELECT expiry::text AS e FROM ${admin.quote(table)} WHERE key = $1`, [
      key,
    ])
    return row!.e as string
  }
  const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

  beforeAll(async () => {
    store = pgStore({ url: PG_URL, table, max: 2 })
    await store.ensureSchema()
    admin = pgAdmin()
  })
  afterAll(async () => {
    await store?.close()
    await admin?.dropTable(table)
    await admin?.close()
  })

  it('an update within the slack writes the data, keeps the expiry and reports it; past the slack it moves', async () => {
    expect(touchSlack(HOUR)).toBe(1000)
    await store.write({ key: 'u', data: new Uint8Array([1]), ref: null, mode: 'insert', ttl: HOUR })
    const first = await expiryOf('u')
    await sleep(20)
    const r = await store.write({ key: 'u', data: new Uint8Array([2]), ref: null, mode: 'update', ttl: HOUR })
    expect(await expiryOf('u')).toBe(first)
    const row = await store.read('u')
    expect(Array.from(row!.data)).toEqual([2])
    expect(r.ok && r.expiry.getTime()).toBe(row!.expiry.getTime())
    await sleep(1100)
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

  it('a touch within the slack keeps the expiry; a shorter ttl moves it back', async () => {
    await store.write({ key: 't', data: new Uint8Array([1]), ref: null, mode: 'insert', ttl: HOUR })
    const first = await expiryOf('t')
    await sleep(20)
    expect(await store.touch({ key: 't', ttl: HOUR })).toBe(true)
    expect(await expiryOf('t')).toBe(first)
    expect(await store.touch({ key: 't', ttl: 60_000 })).toBe(true)
    const row = await store.read('t')
    expect(row!.expiry.getTime() - row!.now.getTime()).toBeLessThanOrEqual(60_000)
  })

  it('a short ttl has a proportionally short slack', async () => {
    // ttl 2 s: slack 20 ms, so an update 60 ms later moves the expiry.
    await store.write({ key: 's', data: new Uint8Array([1]), ref: null, mode: 'insert', ttl: 2000 })
    const first = await expiryOf('s')
    await sleep(60)
    await store.write({ key: 's', data: new Uint8Array([2]), ref: null, mode: 'update', ttl: 2000 })
    expect(await expiryOf('s')).not.toBe(first)
  })
})
