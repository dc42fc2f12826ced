import { isSessionError } from '@sessile/core'
import postgres from 'postgres'
import { afterAll, describe, expect, it } from 'vitest'
import { pgStore } from '../src/pg.js'
import { PG_URL, uniqueTable } from './_helpers/env.js'
import { dropPgTables, reachPg } from './_helpers/reach.js'

const reach = await reachPg()
const table = uniqueTable('qtimeout')
afterAll(async () => {
  if (!reach.skip) await dropPgTables(table)
})

describe.skipIf(reach.skip)('pgStore queryTimeout', () => {
  it('a statement that does not answer fails with E_STORE after queryTimeout, and the store goes on', async () => {
    const store = pgStore({ url: PG_URL, table, max: 2, queryTimeout: 300 })
    const blocker = postgres(PG_URL, { max: 1, onnotice: () => {} })
    try {
      const w = await store.write({
        key: 'k',
        data: new Uint8Array([1]),
        ref: null,
        mode: 'insert',
        ttl: 60_000,
      })
      expect(w.ok).toBe(true)
      let release!: () => void
      const held = new Promise<void>((resolve) => {
        release = resolve
      })
      // Another client holds the row lock, so the store's update waits on it.
      const tx = blocker.begin(async (sql) => {
        await sql.unsafe(`SELECT 1 FROM "${table}" WHERE key = 'k' FOR UPDATE`)
        await held
      })
      await new Promise((r) => setTimeout(r, 100))
      const started = Date.now()
      const e = await store
        .write({ key: 'k', data: new Uint8Array([2]), ref: null, mode: 'update', ttl: 60_000 })
        .catch((err: unknown) => err)
      const waited = Date.now() - started
      expect(isSessionError(e) && e.code === 'E_STORE').toBe(true)
      expect(String((e as Error).message)).toMatch(/300 ms/)
      expect(waited).toBeGreaterThanOrEqual(250)
      expect(waited).toBeLessThan(3000)
      release()
      await tx
      // The cancelled update did not land; the store keeps working.
      expect(Array.from((await store.read('k'))?.data ?? [])).toEqual([1])
    } finally {
      await blocker.end({ timeout: 1 })
      await store.close()
    }
  })

  it('refuses a queryTimeout that is not a whole number of ms', () => {
    expect(() => pgStore({ url: PG_URL, table, queryTimeout: 0 })).toThrow(/queryTimeout/)
    expect(() => pgStore({ url: PG_URL, table, queryTimeout: 1.5 })).toThrow(/queryTimeout/)
  })
})
