// Reads coalesce under load: with `lanes` statements out, further reads wait and go together
// as one SELECT ... IN. Every reader must still get exactly its own row, as a read alone would.
// Run on each dialect through a client that notes every statement the store sends.
import { PGlite } from '@electric-sql/pglite'
import { SessionError } from '@sessile/core'
import mysql from 'mysql2'
import postgres from 'postgres'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { SqlSessionStore } from '../src/index.js'
import { mysqlStore } from '../src/mysql.js'
import { pgStore } from '../src/pg.js'
import { pgliteStore } from '../src/pglite.js'
import { bytes, HOUR, MYSQL_URL, PG_URL, text, uniqueTable } from './_helpers/env.js'
import { dropMysqlTables, dropPgTables, reachMysql, reachPg } from './_helpers/reach.js'

const [myReach, pgReach] = await Promise.all([reachMysql(), reachPg()])

/**
 * What the store sent, a switch that fails the next batched read once, and one that holds the
 * next single read until `release` (a connection that stopped answering).
 */
interface Noted {
  sent: string[]
  failNextBatch: boolean
  holdNextRead: boolean
  held?: Promise<void>
  release?: () => void
}

const newNoted = (): Noted => ({ sent: [], failNextBatch: false, holdNextRead: false })

/** Waits while the statement is a held single read. */
async function gate(noted: Noted, sql: string): Promise<void> {
  if (!noted.holdNextRead || BATCH.test(sql) || !/^SELECT data\b/.test(sql)) return
  noted.holdNextRead = false
  noted.held = new Promise((resolve) => {
    noted.release = resolve
  })
  await noted.held
}

const BATCH = / IN \(/
const injected = () =>
  Object.assign(new Error('injected failure of a batched read'), { code: '42P01', errno: 1146 })

function note(noted: Noted, sql: string): void {
  noted.sent.push(sql)
  if (noted.failNextBatch && BATCH.test(sql)) {
    noted.failNextBatch = false
    throw injected()
  }
}

interface Dialect {
  name: string
  skip: boolean
  /** A store on `table` through a noting client; `undefined` lanes means the default. */
  make(table: string, lanes?: number): { store: SqlSessionStore; noted: Noted }
  /** A store on `table` that opens its own connections (no noting). */
  own(table: string): SqlSessionStore
  cleanUp(tables: string[]): Promise<void>
  /** Another client's transaction on `table` (none on PGlite: it serves one connection). */
  transaction?(table: string): Promise<OtherTransaction>
}

/** A transaction of another client, to lock rows against the store. */
interface OtherTransaction {
  lock(key: string): Promise<void>
  /** Deletes the row; false when the server picked this transaction as a deadlock's victim. */
  remove(key: string): Promise<boolean>
  end(): Promise<void>
}

const mysqlPools: mysql.Pool[] = []
const pgClients: postgres.Sql[] = []
let pglite: PGlite | undefined

const dialects: Dialect[] = [
  {
    name: 'mariadb (mysql2)',
    skip: myReach.skip,
    make(table, lanes) {
      const pool = mysql.createPool({ uri: MYSQL_URL, connectionLimit: 4 })
      mysqlPools.push(pool)
      const inner = pool.promise()
      const noted = newNoted()
      const client = {
        async execute(sql: string, values?: unknown) {
          note(noted, sql)
          await gate(noted, sql)
          return inner.execute(sql, values as never)
        },
        query(sql: string, values?: unknown) {
          noted.sent.push(sql)
          return inner.query(sql, values as never)
        },
        getConnection: () => inner.getConnection(),
      }
      return { store: mysqlStore({ client, table, lanes }), noted }
    },
    own: (table) => mysqlStore({ url: MYSQL_URL, table, connectionLimit: 2 }),
    cleanUp: (tables) => dropMysqlTables(...tables),
    async transaction(table) {
      const pool = mysql.createPool({ uri: MYSQL_URL, connectionLimit: 1 })
      mysqlPools.push(pool)
      const conn = await pool.promise().getConnection()
      await conn.query('START TRANSACTION')
      // InnoDB rolls back the lighter side of a deadlock: weigh this one down with 200 rows, so
      // that the store's batch is the victim (PostgreSQL picks the side that waited first).
      const heavy = Array.from(
        { length: 200 },
        (_, i) => `('heavy-${i}', 'x', UTC_TIMESTAMP(3), UTC_TIMESTAMP(3), UTC_TIMESTAMP(3), 1)`,
      )
      await conn.query(
        `INSERT INTO \`${table}\` (\`key\`, data, created, modified, expiry, version) VALUES ${heavy.join(', ')}`,
      )
      return {
        lock: async (key) => {
          await conn.query(`SELECT ref FROM \`${table}\` WHERE \`key\` = ? FOR UPDATE`, [key])
        },
        remove: (key) =>
          conn.query(`DELETE FROM \`${table}\` WHERE \`key\` = ?`, [key]).then(
            () => true,
            (error: { errno?: unknown }) => {
              if (error.errno !== 1213) throw error
              return false
            },
          ),
        end: async () => {
          await conn.query('COMMIT')
          conn.release()
        },
      }
    },
  },
  {
    name: 'postgres (postgres.js)',
    skip: pgReach.skip,
    make(table, lanes) {
      const sql = postgres(PG_URL, { max: 4, onnotice: () => {} })
      pgClients.push(sql)
      const noted = newNoted()
      // postgres.js's Sql is a function with methods: everything passes through but `unsafe`.
      const client = new Proxy(sql, {
        get(target, prop) {
          if (prop === 'unsafe') {
            return (text: string, params?: unknown[], options?: object) => {
              note(noted, text)
              if (!noted.holdNextRead) return target.unsafe(text, params as never[], options)
              return gate(noted, text).then(() => target.unsafe(text, params as never[], options))
            }
          }
          const value = Reflect.get(target, prop)
          return typeof value === 'function' ? value.bind(target) : value
        },
      })
      return { store: pgStore({ client, table, lanes }), noted }
    },
    own: (table) => pgStore({ url: PG_URL, table, max: 2 }),
    cleanUp: (tables) => dropPgTables(...tables),
    async transaction(table) {
      const sql = postgres(PG_URL, { max: 1, onnotice: () => {} })
      pgClients.push(sql)
      const conn = await sql.reserve()
      await conn.unsafe('BEGIN')
      let failed = false
      return {
        lock: async (key) => {
          await conn.unsafe(`SELECT ref FROM "${table}" WHERE key = $1 FOR UPDATE`, [key])
        },
        remove: (key) =>
          conn.unsafe(`DELETE FROM "${table}" WHERE key = $1`, [key]).then(
            () => true,
            (error: { code?: unknown }) => {
              if (error.code !== '40P01') throw error
              failed = true
              return false
            },
          ),
        end: async () => {
          await conn.unsafe(failed ? 'ROLLBACK' : 'COMMIT')
          conn.release()
        },
      }
    },
  },
  {
    name: 'pglite',
    skip: false,
    make(table, lanes) {
      const db = pglite as PGlite
      const noted = newNoted()
      const client = {
        async query(sql: string, params?: unknown[]) {
          note(noted, sql)
          await gate(noted, sql)
          return db.query(sql, params)
        },
        close: async () => {},
      }
      return { store: pgliteStore({ client, table, lanes }), noted }
    },
    own: (table) => pgliteStore({ client: pglite as PGlite, table }),
    cleanUp: async () => {},
  },
]

beforeAll(async () => {
  pglite = await PGlite.create()
}, 30_000)

afterAll(async () => {
  for (const pool of mysqlPools) await pool.promise().end()
  for (const sql of pgClients) await sql.end()
  await pglite?.close()
})

describe('lanes option', () => {
  it.each([0, -1, 1.5, Number.NaN, '2'])('refuses %s with E_OPTION on every dialect', (lanes) => {
    for (const make of [
      () => mysqlStore({ url: MYSQL_URL, lanes: lanes as number }),
      () => pgStore({ url: PG_URL, lanes: lanes as number }),
      () => pgliteStore({ lanes: lanes as number }),
    ]) {
      expect(make).toThrow(
        expect.objectContaining({ code: 'E_OPTION', message: expect.stringContaining('lanes') }),
      )
    }
  })
})

// The plain read statement (PostgreSQL names `data` first too).
const readsOf = (noted: Noted, from: number) =>
  noted.sent.slice(from).filter((s) => /^SELECT (`?key`?( AS `key`)?, )?data\b/.test(s))
const batchesOf = (noted: Noted, from: number) => noted.sent.slice(from).filter((s) => BATCH.test(s))
const deletesOf = (noted: Noted, from: number) => noted.sent.slice(from).filter((s) => /^DELETE FROM/.test(s))

for (const d of dialects) {
  describe.skipIf(d.skip)(`${d.name}: reads that wait go together`, () => {
    const table = uniqueTable('rb')
    const tables = [table]
    let store: SqlSessionStore
    let noted: Noted
    // Keys a collation would fold together, multi-byte keys, long ones: each is its own row.
    const keys = [
      'ab',
      'AB',
      'ab ',
      'é',
      'e\u0301',
      '🍪',
      'k'.repeat(255),
      ...Array.from({ length: 70 }, (_, i) => `key-${i}`),
    ]
    const refOf = (key: string) => `u:${key.slice(0, 40)}`
    const dataOf = (key: string) => `{"of":${JSON.stringify(key)},"pad":"${'x'.repeat(key.length * 7)}"}`

    beforeAll(async () => {
      ;({ store, noted } = d.make(table, 1))
      await store.ensureSchema()
      for (const key of keys) {
        await store.write({ key, data: bytes(dataOf(key)), ref: refOf(key), mode: 'insert', ttl: HOUR })
      }
      await store.write({
        key: 'big',
        data: bytes('y'.repeat(300_000)),
        ref: null,
        mode: 'insert',
        ttl: HOUR,
      })
      for (let i = 0; i < 20; i++) {
        await store.write({
          key: `large-${i}`,
          data: bytes(`${i}`.repeat(20_000)),
          ref: null,
          mode: 'insert',
          ttl: HOUR,
        })
      }
      await store.write({ key: 'gone-soon', data: bytes('z'), ref: null, mode: 'insert', ttl: 1 })
      await new Promise((r) => setTimeout(r, 30))
    }, 30_000)
    afterAll(async () => {
      await store?.close()
      await d.cleanUp(tables)
    })

    it('every reader gets its own row, or none, as a read alone would', async () => {
      const wanted = [...keys, 'missing', 'gone-soon', 'AB', 'Ab', ...keys.slice(0, 10)]
      const from = noted.sent.length
      const got = await Promise.all(wanted.map((k) => store.read(k)))
      const sent = readsOf(noted, from).length
      const batches = batchesOf(noted, from).length
      for (const [i, key] of wanted.entries()) {
        const r = got[i]
        if (key === 'missing' || key === 'gone-soon' || key === 'Ab') {
          expect(r, key).toBeNull()
          continue
        }
        expect(r?.key, key).toBe(key)
        expect(text(r?.data as Uint8Array), key).toBe(dataOf(key))
        expect(r?.ref).toBe(refOf(key))
        const alone = await store.read(key)
        expect({ ...r, data: undefined, now: undefined }).toEqual({
          ...alone,
          data: undefined,
          now: undefined,
        })
      }
      // One read went alone; the rest waited and went together, at most 32 to a statement.
      const n = wanted.length
      expect(sent).toBeGreaterThanOrEqual(1 + Math.ceil((n - 1) / 32))
      expect(sent).toBeLessThan(n / 4)
      expect(batches).toBeGreaterThanOrEqual(Math.ceil((n - 1) / 32))
    })

    it('large rows: a batch carries them whole, then, while rows average over 8 KB, reads go alone', async () => {
      const fresh = d.make(table, 1)
      try {
        const large = Array.from({ length: 20 }, (_, i) => `large-${i}`)
        // A new store knows no sizes yet: the first burst batches, and each row arrives whole.
        let from = fresh.noted.sent.length
        const first = await Promise.all(['big', ...large].map((k) => fresh.store.read(k)))
        expect(first[0]?.data.byteLength).toBe(300_000)
        for (const [i, r] of first.slice(1).entries())
          expect(text(r?.data as Uint8Array)).toBe(`${i}`.repeat(20_000))
        expect(batchesOf(fresh.noted, from).length).toBeGreaterThan(0)
        // Now the store has seen large rows: a burst of them goes read by read.
        from = fresh.noted.sent.length
        const second = await Promise.all(large.map((k) => fresh.store.read(k)))
        expect(second.map((r) => r?.key)).toEqual(large)
        expect(batchesOf(fresh.noted, from)).toEqual([])
        expect(readsOf(fresh.noted, from)).toHaveLength(20)
        // Small rows bring the average down (over ~16 reads), and bursts batch again.
        for (let i = 0; i < 40; i++) await fresh.store.read(keys[10 + i] as string)
        from = fresh.noted.sent.length
        const third = await Promise.all(keys.slice(0, 30).map((k) => fresh.store.read(k)))
        expect(third.map((r) => r?.key)).toEqual(keys.slice(0, 30))
        expect(batchesOf(fresh.noted, from).length).toBeGreaterThan(0)
      } finally {
        await fresh.store.close()
      }
    })

    it('readers of one session get bytes of their own', async () => {
      const [a, b, c] = await Promise.all([store.read('ab'), store.read('ab'), store.read('ab')])
      expect(b?.data).not.toBe(c?.data)
      expect(b).not.toBeNull()
      b?.data.fill(0)
      expect(text(c?.data as Uint8Array)).toBe(dataOf('ab'))
      expect(text(a?.data as Uint8Array)).toBe(dataOf('ab'))
    })

    it('a failed batch fails each of its readers with a SessionError, and the lanes come back', async () => {
      noted.failNextBatch = true
      const four = ['key-1', 'key-2', 'key-3', 'key-4']
      const outcomes = await Promise.allSettled(four.map((k) => store.read(k)))
      // The first read went alone and succeeded; the three that waited shared the failed statement.
      expect(outcomes[0]?.status).toBe('fulfilled')
      for (const o of outcomes.slice(1)) {
        expect(o.status).toBe('rejected')
        const error = (o as PromiseRejectedResult).reason
        expect(error).toBeInstanceOf(SessionError)
        expect(error.code).toBe('E_STORE')
        expect(error.message).toMatch(/read.*injected failure/)
      }
      const again = await Promise.all(four.map((k) => store.read(k)))
      expect(again.map((r) => r?.key)).toEqual(four)
    })

    it('reads go past a lane that stays out (a stuck connection) after 200 ms', async () => {
      noted.holdNextRead = true
      const stuck = store.read('key-10')
      const started = Date.now()
      const others = await Promise.all(['key-11', 'key-12', 'ab'].map((k) => store.read(k)))
      const waited = Date.now() - started
      expect(others.map((r) => r?.key)).toEqual(['key-11', 'key-12', 'ab'])
      expect(text(others[2]?.data as Uint8Array)).toBe(dataOf('ab'))
      expect(waited).toBeGreaterThanOrEqual(190)
      expect(waited).toBeLessThan(2_000)
      noted.release?.()
      expect((await stuck)?.key).toBe('key-10')
      // And the lanes are whole again: a burst batches as before.
      const from = noted.sent.length
      const burst = await Promise.all(keys.slice(20, 40).map((k) => store.read(k)))
      expect(burst.map((r) => r?.key)).toEqual(keys.slice(20, 40))
      expect(readsOf(noted, from).length).toBeLessThan(5)
    })

    it('a read never waits while a lane is free', async () => {
      const from = noted.sent.length
      for (const key of keys.slice(0, 5)) expect((await store.read(key))?.key).toBe(key)
      expect(batchesOf(noted, from)).toEqual([])
      expect(readsOf(noted, from)).toHaveLength(5)
    })

    it('lanes: Infinity sends every read on its own', async () => {
      const solo = d.make(table, Number.POSITIVE_INFINITY)
      try {
        const from = solo.noted.sent.length
        const got = await Promise.all(keys.slice(0, 40).map((k) => solo.store.read(k)))
        expect(got.map((r) => r?.key)).toEqual(keys.slice(0, 40))
        expect(batchesOf(solo.noted, from)).toEqual([])
        expect(readsOf(solo.noted, from)).toHaveLength(40)
      } finally {
        await solo.store.close()
      }
    })

    it('the default, on connections of its own, reads back what was written', async () => {
      const own = d.own(table)
      try {
        const got = await Promise.all(keys.map((k) => own.read(k)))
        expect(got.map((r) => (r ? text(r.data) : null))).toEqual(keys.map(dataOf))
      } finally {
        await own.close()
      }
    })
  })

  describe.skipIf(d.skip)(`${d.name}: destroys that wait go together`, () => {
    const table = uniqueTable('cd')
    let store: SqlSessionStore
    let noted: Noted
    const put = (key: string, ref: string | null, ttl = HOUR) =>
      store.write({ key, data: bytes(`d:${key}`), ref, mode: 'insert', ttl })

    beforeAll(async () => {
      ;({ store, noted } = d.make(table, 1))
      await store.ensureSchema()
    }, 30_000)
    afterAll(async () => {
      await store?.close()
      await d.cleanUp([table])
    })

    it('each row is reported once, to one of its destroyers, and every row goes', async () => {
      const keys = ['ab', 'AB', 'ab ', 'é', '🍪', ...Array.from({ length: 60 }, (_, i) => `k-${i}`)]
      for (const [i, key] of keys.entries()) await put(key, i % 3 === 0 ? null : `user-${i % 7}`)
      await put('expired', 'user-x', 1)
      await new Promise((r) => setTimeout(r, 30))
      const calls = [...keys, 'missing', 'expired', 'ab', 'k-5', 'k-5', 'Ab']
      const from = noted.sent.length
      const got = await Promise.all(calls.map((k) => store.destroy(k)))
      const deletes = deletesOf(noted, from).length
      const reported = new Map<string, number>()
      for (const [i, key] of calls.entries()) {
        const r = got[i]
        if (r === null || r === undefined) continue
        expect(r.key).toBe(key)
        reported.set(key, (reported.get(key) ?? 0) + 1)
      }
      // Every stored row (the expired one too: a destroy deletes it) reported exactly once.
      expect([...reported.keys()].sort()).toEqual([...keys, 'expired'].sort())
      expect([...reported.values()].every((n) => n === 1)).toBe(true)
      expect(got[calls.indexOf('missing')]).toBeNull()
      expect(got[calls.length - 1]).toBeNull()
      for (const [i, key] of keys.entries()) {
        const r = got[calls.indexOf(key)] ?? got[calls.lastIndexOf(key)]
        expect(r?.ref, key).toBe(i % 3 === 0 ? null : `user-${i % 7}`)
      }
      expect(got[calls.indexOf('expired')]?.ref).toBe('user-x')
      for (const key of keys) expect(await store.read(key)).toBeNull()
      expect(deletes).toBeLessThan(calls.length / 4)
      expect(batchesOf(noted, from).length).toBeGreaterThanOrEqual(2)
    })

    it('after reads of large rows, destroys still go together, each reporting its own row', async () => {
      const large = Array.from({ length: 20 }, (_, i) => `big-${i}`)
      for (const [i, key] of large.entries()) {
        await store.write({ key, data: bytes('z'.repeat(20_000)), ref: `u-${i}`, mode: 'insert', ttl: HOUR })
      }
      const fresh = d.make(table, 1)
      try {
        // Reads of these rows teach the store they are large: reads then go one by one...
        for (const key of large) expect((await fresh.store.read(key))?.key).toBe(key)
        const from = fresh.noted.sent.length
        // ...but a destroy's row is cached (its request has just read it), so destroys still batch.
        const got = await Promise.all(large.map((k) => fresh.store.destroy(k)))
        expect(got).toEqual(large.map((key, i) => ({ key, ref: `u-${i}` })))
        expect(batchesOf(fresh.noted, from).length).toBeGreaterThanOrEqual(1)
        expect(deletesOf(fresh.noted, from).length).toBeLessThan(large.length / 4)
        for (const key of large) expect(await store.read(key)).toBeNull()
      } finally {
        await fresh.store.close()
      }
    })

    it('a failed batch fails each of its destroyers, deletes nothing, and the lanes come back', async () => {
      const four = ['f-1', 'f-2', 'f-3', 'f-4']
      for (const key of four) await put(key, 'u')
      noted.failNextBatch = true
      const outcomes = await Promise.allSettled(four.map((k) => store.destroy(k)))
      expect(outcomes[0]).toEqual({ status: 'fulfilled', value: { key: 'f-1', ref: 'u' } })
      for (const o of outcomes.slice(1)) {
        expect(o.status).toBe('rejected')
        expect((o as PromiseRejectedResult).reason).toMatchObject({ code: 'E_STORE' })
      }
      for (const key of four.slice(1)) expect((await store.read(key))?.ref).toBe('u')
      const again = await Promise.all(four.map((k) => store.destroy(k)))
      expect(again).toEqual([null, ...four.slice(1).map((key) => ({ key, ref: 'u' }))])
    })

    // PGlite serves one connection: no other transaction to deadlock with.
    const transaction = d.transaction
    if (transaction)
      it('a batch that deadlocks with another transaction loses nothing: its keys go one by one', async () => {
        await put('dl-a', 'ua')
        await put('dl-b', 'ub')
        await put('dl-c', 'uc')
        const other = await transaction(table)
        await other.lock('dl-b')
        const from = noted.sent.length
        // dl-c goes alone; dl-a and dl-b wait for it and go together: the batch deletes dl-a,
        // then waits for dl-b, which the other transaction holds.
        const mine = Promise.all(['dl-c', 'dl-a', 'dl-b'].map((k) => store.destroy(k)))
        await new Promise((r) => setTimeout(r, 300))
        expect(batchesOf(noted, from)).toHaveLength(1)
        // The other transaction now wants dl-a: a deadlock. The server rolls one side back.
        const otherDeleted = await other.remove('dl-a')
        await other.end()
        const [c, a, b] = await mine
        expect(c).toEqual({ key: 'dl-c', ref: 'uc' })
        expect(b).toEqual({ key: 'dl-b', ref: 'ub' })
        // The store's batch was the victim and went on key by key: dl-a was the other
        // transaction's to report, dl-b (locked until it ended) the store's.
        expect(otherDeleted).toBe(true)
        expect(a).toBeNull()
        expect(deletesOf(noted, from).filter((s) => !BATCH.test(s)).length).toBeGreaterThanOrEqual(3)
        for (const key of ['dl-a', 'dl-b', 'dl-c']) expect(await store.read(key)).toBeNull()
      }, 15_000)
  })
}
