import { PGlite } from '@electric-sql/pglite'
import {
  createSessions,
  type Filter,
  parseEnvelope,
  type SessionError,
  type SessionStore,
} from '@sessile/core'
import { mysqlStore } from '@sessile/drizzle/mysql'
import { pgStore } from '@sessile/drizzle/pg'
import { pgliteStore } from '@sessile/drizzle/pglite'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { aesGcm, brotli, gzip } from '../src/index.js'
import {
  MYSQL_URL,
  mysqlRaw,
  PG_URL,
  pgRaw,
  pgServerRaw,
  type RawTable,
  reachMysql,
  reachPg,
  uniqueTable,
} from './_db.js'
import { newKey } from './_helpers.js'

const k1 = newKey()
const k2 = newKey()

const layersOf = (payload: Uint8Array) =>
  parseEnvelope(payload).layers.map((l) => [l.id, Buffer.from(l.param).toString('latin1')])

const secretData = {
  userId: 'user-8c1f',
  email: 'ada.lovelace@example.com',
  csrf: 'csrf-token-d41d8cd98f00b204',
  cart: Array.from({ length: 80 }, (_, i) => ({ sku: `SKU-${i}`, qty: (i % 4) + 1 })),
}
const needles = ['ada.lovelace', 'csrf-token', 'user-8c1f', 'SKU-1', '"cart"']

interface Backend {
  /** A store on a fresh table; the same table for every call within one test file. */
  store: () => SessionStore
  raw: () => RawTable
}

function e2e(name: string, backend: () => Backend) {
  describe(`filters end to end on ${name}`, () => {
    const managers: SessionStore[] = []
    const make = (filters: Filter[]) => {
      const store = backend().store()
      managers.push(store)
      const sessions = createSessions({ store, filters })
      const decodeErrors: { key: string; error: SessionError }[] = []
      sessions.on('decodeError', (e) => {
        decodeErrors.push(e)
      })
      return { sessions, decodeErrors }
    }
    afterAll(async () => {
      for (const s of managers) await s.close()
    })

    it('stores [gzip, aes] rows that are not plaintext and reads them back', async () => {
      const { sessions, decodeErrors } = make([gzip(), aesGcm({ keys: { k1 }, current: 'k1' })])
      const r = await sessions.commit(sessions.create(structuredClone(secretData)))
      const key = sessions.keyOf(r.id)
      const row = await backend().raw().get(key)
      expect(layersOf(row)).toEqual([
        ['gzip', '\u0001'],
        ['aes-256-gcm', 'k1'],
      ])
      for (const needle of needles) expect(row.includes(Buffer.from(needle)), needle).toBe(false)
      expect(row.length).toBeLessThan(JSON.stringify(secretData).length)
      expect((await sessions.load(r.id)).data).toEqual(secretData)
      expect(decodeErrors).toEqual([])
    })

    it('rotates from [gzip, aes k1] to [brotli, aes k2+k1] and rewrites the row on commit', async () => {
      const before = make([gzip(), aesGcm({ keys: { k1 }, current: 'k1' })])
      const r = await before.sessions.commit(before.sessions.create(structuredClone(secretData)))
      const key = before.sessions.keyOf(r.id)
      const after = make([brotli(), aesGcm({ keys: { k2, k1 }, current: 'k2' })])
      const s = await after.sessions.load(r.id)
      expect(s.data).toEqual(secretData)
      expect((await after.sessions.commit(s)).write).toBe('update')
      expect(layersOf(await backend().raw().get(key))).toEqual([
        ['brotli', '\u0001'],
        ['aes-256-gcm', 'k2'],
      ])
      const retired = make([brotli(), aesGcm({ keys: { k2 }, current: 'k2' })])
      expect((await retired.sessions.load(r.id)).data).toEqual(secretData)
      expect([...after.decodeErrors, ...retired.decodeErrors]).toEqual([])
    })

    it('gives a fresh session and a decodeError for a flipped bit, a copied row and a stripped layer', async () => {
      const { sessions, decodeErrors } = make([gzip(), aesGcm({ keys: { k1 }, current: 'k1' })])
      const raw = backend().raw()
      const a = await sessions.commit(sessions.create({ user: 'admin' }))
      const b = await sessions.commit(sessions.create({ user: 'mallory' }))
      const keyA = sessions.keyOf(a.id)
      const keyB = sessions.keyOf(b.id)
      const rowA = await raw.get(keyA)

      const flipped = Buffer.from(rowA)
      flipped[flipped.length - 20] = (flipped[flipped.length - 20] as number) ^ 0x01
      const plain = Buffer.concat([Buffer.of(0x53, 0x01, 0x00), Buffer.from('{"user":"admin"}')])
      const cases: [string, string, Uint8Array][] = [
        ['flipped', a.id, flipped],
        ['copied', b.id, rowA],
        ['stripped', a.id, plain],
      ]
      let count = 0
      for (const [label, id, bytes] of cases) {
        const key = sessions.keyOf(id)
        const original = await raw.get(key)
        await raw.set(key, bytes)
        const s = await sessions.load(id)
        expect(s.isNew, label).toBe(true)
        expect(s.data, label).toEqual({})
        expect(decodeErrors, label).toHaveLength(++count)
        expect(decodeErrors.at(-1)?.key).toBe(key)
        await raw.set(key, original)
      }
      expect((await sessions.load(a.id)).data).toEqual({ user: 'admin' })
      expect((await sessions.load(b.id)).data).toEqual({ user: 'mallory' })
      expect(keyA).not.toBe(keyB)
    })

    it('round-trips a large compressible session', async () => {
      const { sessions } = make([brotli(), aesGcm({ keys: { k1 }, current: 'k1' })])
      const data = {
        rows: Array.from({ length: 8000 }, (_, i) => ({ i, label: `row number ${i}`, ok: i % 2 === 0 })),
      }
      const r = await sessions.commit(sessions.create(data))
      const row = await backend().raw().get(sessions.keyOf(r.id))
      expect(row.length).toBeLessThan(JSON.stringify(data).length / 4)
      expect((await sessions.load(r.id)).data).toEqual(data)
    })
  })
}

// PGlite: one instance for the file (it takes seconds to start).
describe('PGlite', () => {
  let client: PGlite
  const table = uniqueTable()
  beforeAll(async () => {
    client = await PGlite.create()
  }, 60_000)
  afterAll(async () => {
    await client?.close()
  })
  const query = async (text: string, params: unknown[]) => (await client.query(text, params)).rows
  e2e('PGlite', () => ({
    store: () => pgliteStore({ client, table }),
    raw: () => ({ ...pgRaw(query, table), close: async () => {} }),
  }))
})

// PostgreSQL server.
{
  const reach = await reachPg()
  const table = uniqueTable()
  let raw: RawTable
  describe.skipIf(reach.skip)('PostgreSQL', () => {
    beforeAll(async () => {
      raw = await pgServerRaw(table)
    })
    afterAll(async () => {
      await raw?.drop()
      await raw?.close()
    })
    e2e('PostgreSQL', () => ({
      store: () => pgStore({ url: PG_URL, table, max: 2, applicationName: 'sessile-filters-e2e' }),
      raw: () => raw,
    }))
  })
}

// MariaDB / MySQL server.
{
  const reach = await reachMysql()
  const table = uniqueTable()
  let raw: RawTable
  describe.skipIf(reach.skip)('MariaDB', () => {
    beforeAll(async () => {
      raw = await mysqlRaw(table)
    })
    afterAll(async () => {
      await raw?.drop()
      await raw?.close()
    })
    e2e('MariaDB', () => ({
      store: () => mysqlStore({ url: MYSQL_URL, table, connectionLimit: 2 }),
      raw: () => raw,
    }))
  })
}
