import postgres from 'postgres'
import { afterAll, describe, expect, it } from 'vitest'
import { PIPELINE, PostgresPool } from '../src/_internal/postgres-js/pool.js'
import { pgStore } from '../src/pg.js'
import { PG_URL, uniqueTable } from './_helpers/env.js'
import { dropPgTables, reachPg } from './_helpers/reach.js'

const reach = await reachPg()
const table = uniqueTable('lanes')
afterAll(async () => {
  if (!reach.skip) await dropPgTables(table)
})

// The pool pgStore opens from a URL: one postgres.js client per connection (see PostgresPool).
describe.skipIf(reach.skip)('pgStore own pool (PostgresPool)', () => {
  const app = `lanes-${process.pid}-${Date.now()}`
  const admin = postgres(PG_URL, { max: 1, onnotice: () => {} })
  afterAll(() => admin.end({ timeout: 1 }))
  const connections = async (): Promise<number> => {
    const [row] = await admin`SELECT count(*)::int AS n FROM pg_stat_activity WHERE application_name = ${app}`
    return row?.n as number
  }

  it('opens connections only as concurrency needs them and never more than max', async () => {
    const store = pgStore({ url: PG_URL, table, max: 3, applicationName: app })
    try {
      await store.ensureSchema()
      for (let i = 0; i < 20; i++) expect(await store.read(`k${i}`)).toBeNull()
      expect(await connections()).toBe(1)
      // 200 at once: every one answered with its own key's row, on at most 3 connections.
      await Promise.all(
        Array.from({ length: 50 }, (_, i) =>
          store.write({ key: `k${i}`, data: new Uint8Array([i]), ref: null, mode: 'insert', ttl: 60_000 }),
        ),
      )
      const rows = await Promise.all(Array.from({ length: 200 }, (_, i) => store.read(`k${i % 50}`)))
      expect(rows.map((row) => Array.from(row?.data ?? []))).toEqual(rows.map((_, i) => [i % 50]))
      expect(await connections()).toBeLessThanOrEqual(3)
      expect(await connections()).toBeGreaterThan(1)
    } finally {
      await store.close()
    }
    expect(await connections()).toBe(0)
  })

  it('queues beyond the pipeline limit and answers every statement with its own result', async () => {
    const lanes = new PostgresPool(() => postgres(PG_URL, { max: 1, onnotice: () => {} }), 1)
    try {
      const jobs = Array.from({ length: PIPELINE + 150 }, (_, i) => lanes.query('SELECT $1::int AS n', [i]))
      expect(lanes.waiting).toBe(150)
      const rows = await Promise.all(jobs)
      expect(rows.map((r) => r[0]?.n)).toEqual(jobs.map((_, i) => i))
      expect(lanes.waiting).toBe(0)
    } finally {
      await lanes.end()
    }
  })

  it('a statement cancelled while it waits is never sent', async () => {
    const t = `${table}_cancel`
    await admin.unsafe(`CREATE TABLE "${t}" (n int)`)
    const lanes = new PostgresPool(() => postgres(PG_URL, { max: 1, onnotice: () => {} }), 1)
    try {
      const ahead = Array.from({ length: PIPELINE }, () => lanes.query('SELECT pg_sleep(0.001)', []))
      const kept = lanes.query(`INSERT INTO "${t}" VALUES (1)`, [])
      const dropped = lanes.query(`INSERT INTO "${t}" VALUES (2)`, [])
      expect(lanes.waiting).toBe(2)
      const outcome = dropped.catch((e: unknown) => e)
      dropped.cancel()
      // It fails at once, before the statements ahead of it have answered.
      expect(await outcome).toMatchObject({ code: 'CANCELLED' })
      await Promise.all([...ahead, kept])
      await new Promise((r) => setTimeout(r, 50))
      const rows = await admin.unsafe(`SELECT n FROM "${t}" ORDER BY n`)
      expect(rows.map((r) => r.n)).toEqual([1])
    } finally {
      await lanes.end()
      await admin.unsafe(`DROP TABLE IF EXISTS "${t}"`)
    }
  })

  it('ends connections left idle for a check period, never one with a statement in flight, and reopens them', async () => {
    const idleApp = `${app}-idle`
    const connectionsOf = async (name: string): Promise<number> => {
      const [row] =
        await admin`SELECT count(*)::int AS n FROM pg_stat_activity WHERE application_name = ${name}`
      return row?.n as number
    }
    const make = () =>
      postgres(PG_URL, { max: 1, onnotice: () => {}, connection: { application_name: idleApp } })
    const lanes = new PostgresPool(make, 2, undefined, 100)
    try {
      // Two connections: a long statement keeps the first busy while the second answers.
      const slow = lanes.query('SELECT pg_sleep(1) AS slept', [])
      expect((await lanes.query('SELECT 2 AS n', []))[0]?.n).toBe(2)
      expect(lanes.open).toBe(2)
      await new Promise((r) => setTimeout(r, 350))
      // The idle one is gone (here and on the server); the busy one is kept and answers.
      expect(lanes.open).toBe(1)
      expect(await connectionsOf(idleApp)).toBe(1)
      expect(await slow).toHaveLength(1)
      await new Promise((r) => setTimeout(r, 400))
      expect(lanes.open).toBe(0)
      expect(await connectionsOf(idleApp)).toBe(0)
      // The next statement opens a connection again.
      expect((await lanes.query('SELECT 3 AS n', []))[0]?.n).toBe(3)
      expect(lanes.open).toBe(1)
    } finally {
      await lanes.end()
    }
    expect(await connectionsOf(idleApp)).toBe(0)
  })

  it('end() rejects the statements still waiting for a lane', async () => {
    const lanes = new PostgresPool(() => postgres(PG_URL, { max: 1, onnotice: () => {} }), 1)
    const busy = Array.from({ length: PIPELINE }, () => lanes.query('SELECT pg_sleep(0.001)', []))
    const late = lanes.query('SELECT 1', []).catch((e: unknown) => e)
    expect(lanes.waiting).toBe(1)
    await lanes.end()
    await Promise.allSettled(busy)
    expect(await late).toMatchObject({ code: 'CONNECTION_ENDED' })
  })
})
