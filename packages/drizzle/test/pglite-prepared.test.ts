// The PGlite instance a store opens itself runs its statements as named prepared statements
// (PglitePrepared): rows must come back exactly as PGlite.query returns them, errors keep their
// SQLSTATE, and a statement the session forgot is prepared again.
import { PGlite } from '@electric-sql/pglite'
import { describeStore } from '@sessile/core/testing'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { MAX_PREPARED, PglitePrepared } from '../src/_internal/pglite/prepared.js'
import { pgliteStore } from '../src/pglite.js'
import { uniqueTable } from './_helpers/env.js'

let db: PGlite
beforeAll(async () => {
  db = await PGlite.create()
  await db.exec(`CREATE TABLE t (k text PRIMARY KEY, b bytea, n int, ts timestamptz, f float8, ok boolean)`)
}, 60_000)
afterAll(async () => {
  await db.close()
})

const prepared = (): { p: PglitePrepared; count: () => Promise<number> } => ({
  p: new PglitePrepared(db),
  count: async () =>
    (await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM pg_prepared_statements`)).rows[0]?.n ?? 0,
})

describe('PglitePrepared', () => {
  it('returns the rows PGlite.query returns, for every column type the store reads', async () => {
    const { p } = prepared()
    const bytes = new Uint8Array(70_000).map((_, i) => (i * 7919) % 256)
    const insert = `INSERT INTO t VALUES ($1, $2, $3, $4, $5, $6) RETURNING k, b, n, ts, f, ok`
    const stamp = new Date('2026-11-30T12:34:56.789Z')
    const inserted = await p.query(insert, ['a', bytes, 42, stamp, 1.5, true])
    await p.query(insert, ['b', null, null, null, null, null])
    const select = `SELECT k, b, n, ts, f, ok, now() > ts AS past FROM t WHERE k = ANY($1::text[]) ORDER BY k`
    const mine = await p.query(select, [['a', 'b']])
    const theirs = (await db.query(select, [['a', 'b']])).rows
    expect(mine).toEqual(theirs)
    expect(inserted[0]?.b).toEqual(bytes)
    expect(mine[0]).toMatchObject({ k: 'a', n: 42, f: 1.5, ok: true, past: true })
    expect(mine[0]?.ts).toBeInstanceOf(Date)
    expect((mine[0]?.ts as Date | undefined)?.getTime()).toBe(stamp.getTime())
    expect(mine[1]).toMatchObject({ k: 'b', b: null, n: null, ts: null })
    // A statement without rows gives none.
    expect(await p.query(`UPDATE t SET n = n WHERE k = $1`, ['none'])).toEqual([])
  })

  it('prepares each text once and runs it by name after that', async () => {
    const { p, count } = prepared()
    const before = await count()
    for (let i = 0; i < 20; i++) expect(await p.query(`SELECT $1::int + 1 AS n`, [i])).toEqual([{ n: i + 1 }])
    expect(await count()).toBe(before + 1)
    await p.query(`SELECT $1::int + 2 AS n`, [0])
    expect(await count()).toBe(before + 2)
  })

  it('keeps the SQLSTATE of a failed statement, and the next statement runs', async () => {
    const { p } = prepared()
    await p.query(`INSERT INTO t (k) VALUES ($1)`, ['dup'])
    const e = await p.query(`INSERT INTO t (k) VALUES ($1)`, ['dup']).catch((error: unknown) => error)
    expect(e).toMatchObject({ code: '23505' })
    expect(await p.query(`SELECT k FROM t WHERE k = $1`, ['dup'])).toEqual([{ k: 'dup' }])
  })

  it('prepares a statement again after DEALLOCATE ALL', async () => {
    const { p, count } = prepared()
    expect(await p.query(`SELECT $1::text AS v`, ['x'])).toEqual([{ v: 'x' }])
    await db.exec('DEALLOCATE ALL')
    expect(await count()).toBe(0)
    expect(await p.query(`SELECT $1::text AS v`, ['y'])).toEqual([{ v: 'y' }])
    expect(await count()).toBe(1)
  })

  it(`stops preparing past ${MAX_PREPARED} texts and runs the rest through query`, async () => {
    await db.exec('DEALLOCATE ALL')
    const { p, count } = prepared()
    for (let i = 0; i < MAX_PREPARED + 20; i++) {
      expect(await p.query(`SELECT $1::int AS n, ${i} AS i`, [i])).toEqual([{ n: i, i }])
    }
    expect(await count()).toBe(MAX_PREPARED)
    await db.exec('DEALLOCATE ALL')
  })
})

// The whole store contract on an instance the store opens (and so on prepared statements). Each
// store then has a database of its own, so the test of two stores sharing a table is skipped.
const table = uniqueTable('own')
describeStore('pglite, own instance (prepared statements)', () => pgliteStore({ table }), {
  shared: false,
  timeout: 60_000,
})
