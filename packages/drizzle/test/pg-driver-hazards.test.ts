/**
 * Hazards of postgres.js 3.4 that the store must not pass on to a request, each reproduced
 * against the real server:
 * - cancelling a statement pipelined behind another one makes postgres.js hand every later
 *   result on that connection to the statement after its own (a read gets another key's row);
 * - a statement that fails after some of its rows arrived leaves a row counter set, and the
 *   next statement on the connection resolves with holes in front of its rows (a read of a live
 *   session sees no row);
 * - a connection killed while postgres.js fetches array types at start-up rejects a promise
 *   nobody holds (an unhandled rejection, which ends a Node process by default).
 */
import { isSessionError } from '@sessile/core'
import postgres from 'postgres'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { pgStore } from '../src/pg.js'
import { bytes, HOUR, PG_URL, text, uniqueTable } from './_helpers/env.js'
import { FlakyProxy } from './_helpers/proxy.js'
import { dropPgTables, reachPg } from './_helpers/reach.js'

const reach = await reachPg()
const table = uniqueTable('hazards')

describe.skipIf(reach.skip)('postgres.js hazards', () => {
  const admin = postgres(PG_URL, { max: 1, onnotice: () => {} })
  beforeAll(async () => {
    const seed = pgStore({ url: PG_URL, table, max: 1 })
    try {
      for (const k of ['a', 'b', 'c', 'd', 'e', 'f']) {
        const w = await seed.write({
          key: k,
          data: bytes(`data of ${k}`),
          ref: null,
          mode: 'insert',
          ttl: HOUR,
        })
        expect(w.ok).toBe(true)
      }
    } finally {
      await seed.close()
    }
  })
  afterAll(async () => {
    await dropPgTables(table)
    await admin.end({ timeout: 1 })
  })

  it('reads pipelined behind a statement past its deadline get their own row or E_STORE, never another key', async () => {
    // One connection, no coalescing: every read is its own statement, pipelined behind the update.
    const store = pgStore({ url: PG_URL, table, max: 1, lanes: Number.POSITIVE_INFINITY, queryTimeout: 300 })
    let release!: () => void
    const held = new Promise<void>((resolve) => {
      release = resolve
    })
    let locked!: () => void
    const isLocked = new Promise<void>((resolve) => {
      locked = resolve
    })
    // Every statement is prepared on the connection first: an unprepared one is held back by
    // postgres.js until it is described, and nothing would be pipelined behind it.
    const first = await store.write({
      key: 'a',
      data: bytes('data of a'),
      ref: null,
      mode: 'update',
      ttl: HOUR,
    })
    expect(first.ok).toBe(true)
    expect(text((await store.read('b'))?.data ?? new Uint8Array())).toBe('data of b')
    const tx = admin.begin(async (sql) => {
      await sql.unsafe(`SELECT 1 FROM "${table}" WHERE key = 'a' FOR UPDATE`)
      locked()
      await held
    })
    try {
      await isLocked
      const update = store
        .write({ key: 'a', data: bytes('changed'), ref: null, mode: 'update', ttl: HOUR })
        .then(
          () => 'updated',
          (e: unknown) => e,
        )
      // 'b' falls due with the update; the later reads are still in time when the update's
      // cancel lands, so the server answers them all.
      const keys = ['b', 'c', 'd', 'e', 'f']
      const reads: Promise<unknown>[] = []
      for (const k of keys) {
        reads.push(
          store.read(k).then(
            (row) => (row ? text(row.data) : null),
            (e: unknown) => e,
          ),
        )
        if (k === 'b') await new Promise((r) => setTimeout(r, 150))
      }
      const outcomes = await Promise.all(reads)
      const u = await update
      expect(isSessionError(u) && u.code === 'E_STORE').toBe(true)
      outcomes.forEach((got, i) => {
        if (typeof got === 'string' || got === null) expect(got).toBe(`data of ${keys[i]}`)
        else expect(isSessionError(got) && got.code === 'E_STORE').toBe(true)
      })
      release()
      await tx
      // The connection serves every key its own row afterwards.
      for (const k of keys) expect(text((await store.read(k))?.data ?? new Uint8Array())).toBe(`data of ${k}`)
      expect(text((await store.read('a'))?.data ?? new Uint8Array())).toBe('data of a')
    } finally {
      release()
      await tx.catch(() => {})
      await store.close()
    }
  })

  it('a read sharing its connection with a statement that failed after some rows still gets its row', async () => {
    // The app's own client, lent to the store: one connection, statements pipelined on it.
    const client = postgres(PG_URL, { max: 1, onnotice: () => {} })
    const store = pgStore({ client, table })
    try {
      expect(text((await store.read('b'))?.data ?? new Uint8Array())).toBe('data of b')
      // Three rows reach the client, then a division by zero fails the statement.
      const failing = client.unsafe('SELECT i, 1 / (4 - i) AS boom FROM generate_series(1, 10) AS i').then(
        () => 'answered',
        (e: unknown) => (e as { code?: string }).code,
      )
      const read = store.read('c')
      expect(await failing).toBe('22012')
      expect(text((await read)?.data ?? new Uint8Array())).toBe('data of c')
      // The statement after it on the connection is whole again.
      expect(text((await store.read('d'))?.data ?? new Uint8Array())).toBe('data of d')
    } finally {
      await client.end({ timeout: 1 })
    }
  })

  it('the connections the store opens never run the start-up type query', async () => {
    const seen = new FlakyProxy('127.0.0.1', Number(new URL(PG_URL).port || 5432))
    await seen.up()
    const port = seen.port
    const url = new URL(PG_URL)
    url.port = String(port)
    try {
      // The proxy sees what a default postgres.js client sends on a new connection.
      const plain = postgres(url.toString(), { max: 1, onnotice: () => {} })
      await plain`SELECT 1`
      await plain.end({ timeout: 1 })
      expect(seen.sent()).toContain('pg_catalog.pg_type')
      seen.clearSent()
      const store = pgStore({ url: url.toString(), table, max: 3 })
      try {
        await Promise.all(['b', 'c', 'd', 'e', 'f'].map((k) => store.read(k)))
        expect(text((await store.read('e'))?.data ?? new Uint8Array())).toBe('data of e')
      } finally {
        await store.close()
      }
      expect(seen.sent()).toContain('SELECT')
      expect(seen.sent()).not.toContain('pg_type')
    } finally {
      await seen.down()
    }
  })

  it('a connection that stops answering is given up after the deadline and its grace; the next statement gets a new one', async () => {
    const proxy = new FlakyProxy('127.0.0.1', Number(new URL(PG_URL).port || 5432))
    await proxy.up()
    const port = proxy.port
    const url = new URL(PG_URL)
    url.port = String(port)
    const store = pgStore({
      url: url.toString(),
      table,
      max: 1,
      lanes: Number.POSITIVE_INFINITY,
      queryTimeout: 300,
    })
    try {
      expect(text((await store.read('b'))?.data ?? new Uint8Array())).toBe('data of b')
      expect(proxy.connections).toBe(1)
      // Every reply on that connection is held back from now on, as by a dead network path.
      proxy.freeze()
      const started = Date.now()
      const stuck = await Promise.all(['b', 'c', 'd'].map((k) => store.read(k).catch((e: unknown) => e)))
      for (const e of stuck) expect(isSessionError(e) && e.code === 'E_STORE').toBe(true)
      // The deadline (300 ms) and the cancel's grace (1 s): not the operating system's timeouts.
      expect(Date.now() - started).toBeLessThan(4000)
      const after = Date.now()
      expect(text((await store.read('e'))?.data ?? new Uint8Array())).toBe('data of e')
      expect(Date.now() - after).toBeLessThan(1000)
    } finally {
      await store.close()
      await proxy.down()
    }
  })
})
