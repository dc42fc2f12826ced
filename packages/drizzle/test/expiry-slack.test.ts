import { touchSlack } from '@sessile/core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { SqlSessionStore } from '../src/index.js'
import { mysqlStore } from '../src/mysql.js'
import { pgStore } from '../src/pg.js'
import { type Admin, mysqlAdmin, pgAdmin } from './_helpers/admin.js'
import { HOUR, MYSQL_URL, PG_URL, uniqueTable } from './_helpers/env.js'
import { reachMysql, reachPg } from './_helpers/reach.js'

const [pg, mysql] = await Promise.all([reachPg(), reachMysql()])

// The peers keep whole seconds, so their frequent touches leave the expiry (and its index)
// alone. Touches get the same saving, bounded by touchSlack, without giving up millisecond expiry;
// updates leave the expiry as it is when the manager asks (keepExpiry). Either way, on MariaDB an
// unchanged row is not written at all and expiry_idx is not touched; on PostgreSQL a write that
// changes no indexed column can be a HOT update.
const databases = [
  {
    name: 'mariadb',
    skip: mysql.skip,
    store: (table: string) => mysqlStore({ url: MYSQL_URL, table, connectionLimit: 2 }),
    admin: mysqlAdmin,
    expiry: (t: string) =>
      `SELECT DATE_FORMAT(expiry, '%Y-%m-%d %H:%i:%s.%f') AS e FROM ${t} WHERE \`key\` = ?`,
  },
  {
    name: 'postgresql',
    skip: pg.skip,
    store: (table: string) => pgStore({ url: PG_URL, table, max: 2 }),
    admin: pgAdmin,
    expiry: (t: string) => `SELECT expiry::text AS e FROM ${t} WHERE key = $1`,
  },
]

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))
const one = (n: number) => new Uint8Array([n])

describe.each(databases)(
  '$name: touches keep the expiry within touchSlack, updates with keepExpiry',
  (db) => {
    const table = uniqueTable('slack')
    let store: SqlSessionStore
    let admin: Admin
    const expiryOf = async (key: string): Promise<string> => {
      const [row] = await admin.query(db.expiry(admin.quote(table)), [key])
      return row!.e as string
    }

    beforeAll(async () => {
      if (db.skip) return
      store = db.store(table)
      await store.ensureSchema()
      admin = db.admin()
    })
    afterAll(async () => {
      await store?.close()
      await admin?.dropTable(table)
      await admin?.close()
    })

    it.skipIf(db.skip)(
      'a second touch within the slack leaves the expiry; one past it moves it',
      async () => {
        expect(touchSlack(HOUR)).toBe(1000)
        await store.write({ key: 'k', data: one(1), ref: null, mode: 'insert', ttl: HOUR })
        expect(await store.touch({ key: 'k', ttl: HOUR })).toBe(true)
        const first = await expiryOf('k')
        await sleep(20)
        expect(await store.touch({ key: 'k', ttl: HOUR })).toBe(true)
        expect(await expiryOf('k')).toBe(first)
        await sleep(1100)
        expect(await store.touch({ key: 'k', ttl: HOUR })).toBe(true)
        expect(await expiryOf('k')).not.toBe(first)
      },
    )

    it.skipIf(db.skip)(
      'a touch with a ttl shorter by more than the slack moves the expiry back',
      async () => {
        await store.write({ key: 'b', data: one(1), ref: null, mode: 'insert', ttl: HOUR })
        expect(await store.touch({ key: 'b', ttl: 60_000 })).toBe(true)
        const row = await store.read('b')
        expect(row!.expiry.getTime() - row!.now.getTime()).toBeLessThanOrEqual(60_000)
      },
    )

    it.skipIf(db.skip)('a short ttl has a proportionally short slack', async () => {
      // ttl 2 s: slack 20 ms, so a touch or an update 60 ms later moves the expiry.
      await store.write({ key: 's', data: one(1), ref: null, mode: 'insert', ttl: 2000 })
      const first = await expiryOf('s')
      await sleep(60)
      expect(await store.touch({ key: 's', ttl: 2000 })).toBe(true)
      const touched = await expiryOf('s')
      expect(touched).not.toBe(first)
      await sleep(60)
      await store.write({ key: 's', data: one(2), ref: null, mode: 'update', ttl: 2000 })
      expect(await expiryOf('s')).not.toBe(touched)
    })

    it.skipIf(db.skip)(
      'an update with keepExpiry writes the data and keeps the expiry exactly, and reports it',
      async () => {
        await store.write({ key: 'u', data: one(1), ref: null, mode: 'insert', ttl: HOUR })
        const first = await expiryOf('u')
        await sleep(20)
        const r = await store.write({
          key: 'u',
          data: one(2),
          ref: null,
          mode: 'update',
          ttl: HOUR,
          version: 1,
          keepExpiry: true,
        })
        expect(r.ok).toBe(true)
        expect(await expiryOf('u')).toBe(first)
        const row = await store.read('u')
        expect(Array.from(row!.data)).toEqual([2])
        expect(r.ok && r.expiry.getTime()).toBe(row!.expiry.getTime())
        expect(r.ok && r.version).toBe(2)
        expect(row!.version).toBe(2)
        // Without keepExpiry the expiry moves to now + ttl, however soon, and the reported one is the new one.
        await sleep(20)
        const moved = await store.write({ key: 'u', data: one(3), ref: null, mode: 'update', ttl: HOUR })
        expect(await expiryOf('u')).not.toBe(first)
        const after = await store.read('u')
        expect(moved.ok && moved.expiry.getTime()).toBe(after!.expiry.getTime())
        expect(after!.expiry.getTime() - after!.now.getTime()).toBeGreaterThan(HOUR - 1000)
      },
    )

    it.skipIf(db.skip)('an update with keepExpiry and a stale version changes nothing', async () => {
      await store.write({ key: 'v', data: one(1), ref: null, mode: 'insert', ttl: HOUR })
      await store.write({ key: 'v', data: one(2), ref: null, mode: 'update', ttl: HOUR, keepExpiry: true })
      const r = await store.write({
        key: 'v',
        data: one(3),
        ref: null,
        mode: 'update',
        ttl: HOUR,
        version: 1,
        keepExpiry: true,
      })
      expect(r).toEqual({ ok: false, reason: 'conflict' })
      expect(Array.from((await store.read('v'))!.data)).toEqual([2])
    })

    it.skipIf(db.skip)(
      'an update given a lease releases it; one without a lease leaves it held',
      async () => {
        await store.write({ key: 'ul', data: one(1), ref: null, mode: 'insert', ttl: HOUR })
        expect((await store.lease!({ key: 'ul', token: 'tok-1', ttl: 10_000 })).ok).toBe(true)
        await store.write({ key: 'ul', data: one(2), ref: null, mode: 'update', ttl: HOUR })
        expect((await store.lease!({ key: 'ul', token: 'tok-2', ttl: 10_000 })).ok).toBe(false)
        await store.write({ key: 'ul', data: one(3), ref: null, mode: 'update', ttl: HOUR, lease: 'tok-1' })
        expect((await store.lease!({ key: 'ul', token: 'tok-2', ttl: 10_000 })).ok).toBe(true)
      },
    )

    it.skipIf(db.skip)('a touch that releases a lease still does so within the slack', async () => {
      await store.write({ key: 'l', data: one(1), ref: null, mode: 'insert', ttl: HOUR })
      expect((await store.lease!({ key: 'l', token: 'tok-1', ttl: 10_000 })).ok).toBe(true)
      expect(await store.touch({ key: 'l', ttl: HOUR, lease: 'tok-1' })).toBe(true)
      // Free again: another token gets it at once.
      expect((await store.lease!({ key: 'l', token: 'tok-2', ttl: 10_000 })).ok).toBe(true)
    })
  },
)
