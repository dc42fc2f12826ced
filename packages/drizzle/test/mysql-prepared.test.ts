import mysql from 'mysql2'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { mysqlStatements } from '../src/_internal/mysql/sql.js'
import type { SqlSessionStore } from '../src/index.js'
import { mysqlStore } from '../src/mysql.js'
import { type Admin, mysqlAdmin } from './_helpers/admin.js'
import { bytes, HOUR, MYSQL_URL, uniqueTable } from './_helpers/env.js'
import { reachMysql } from './_helpers/reach.js'

const reach = await reachMysql()

/** A store on a mysql2 pool of the test's own; the table is dropped after the describe. */
function onOwnPool(name: string) {
  const ctx = { table: uniqueTable(name) } as { table: string; pool: mysql.Pool; store: SqlSessionStore }
  let admin: Admin | undefined
  beforeAll(async () => {
    ctx.pool = mysql.createPool({ uri: MYSQL_URL, connectionLimit: 1 })
    ctx.store = mysqlStore({ client: ctx.pool, table: ctx.table })
    await ctx.store.ensureSchema()
    admin = mysqlAdmin()
  })
  afterAll(async () => {
    await ctx.store?.close()
    await ctx.pool?.promise().end()
    await admin?.dropTable(ctx.table)
    await admin?.close()
  })
  return ctx
}

/**
 * The store prepares each statement once per connection and executes it directly, skipping
 * mysql2's per-call Prepare command. One pooled connection here, so the server's own counters of
 * that connection say what reached it.
 */
describe.skipIf(reach.skip)('mysql: statements prepared once per connection', () => {
  const ctx = onOwnPool('prep')

  const status = async (name: string): Promise<number> => {
    const [rows] = await ctx.pool.promise().query(`SHOW SESSION STATUS LIKE '${name}'`)
    return Number((rows as { Value: string }[])[0]?.Value)
  }

  it('100 reads and writes of one statement each prepare it once', async () => {
    await ctx.store.write({ key: 'a', data: bytes('0'), ref: null, mode: 'insert', ttl: HOUR })
    await ctx.store.read('a')
    const prepared = await status('Com_stmt_prepare')
    const executed = await status('Com_stmt_execute')
    for (let i = 1; i <= 50; i++) {
      const w = await ctx.store.write({
        key: 'a',
        data: bytes(String(i)),
        ref: null,
        mode: 'update',
        ttl: HOUR,
        version: i,
        keepExpiry: true,
      })
      expect(w.ok && w.version).toBe(i + 1)
      expect(Buffer.from((await ctx.store.read('a'))!.data).toString()).toBe(String(i))
    }
    // The keepExpiry update is new here: one more prepare, then only executions.
    expect((await status('Com_stmt_prepare')) - prepared).toBe(1)
    expect((await status('Com_stmt_execute')) - executed).toBe(100)
  })

  it('a statement the server no longer knows is prepared again, and the call succeeds', async () => {
    await ctx.store.write({ key: 'b', data: bytes('x'), ref: null, mode: 'upsert', ttl: HOUR })
    expect(await ctx.store.read('b')).not.toBeNull()
    // What mysql2 does to a statement it evicts from its own cache: close it on the server.
    const read = mysqlStatements(ctx.table).read.text
    await new Promise<void>((resolve, reject) =>
      ctx.pool.getConnection((error, conn) => {
        if (error) return reject(error)
        conn.unprepare(read)
        conn.release()
        resolve()
      }),
    )
    const prepared = await status('Com_stmt_prepare')
    const row = await ctx.store.read('b')
    expect(Buffer.from(row!.data).toString()).toBe('x')
    expect((await status('Com_stmt_prepare')) - prepared).toBe(1)
  })
})

describe.skipIf(reach.skip)('mysql: updates by key weigh only the primary key', () => {
  const ctx = onOwnPool('hint')

  // Without the hint MariaDB lists the expiry index too, and estimates its range on every call.
  it('EXPLAIN of every update, touch and lease statement names PRIMARY alone', async () => {
    const s = mysqlStatements(ctx.table)
    const statements = [
      ...[0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15].map((i) =>
        s.update((i & 4) !== 0, (i & 2) !== 0, (i & 1) !== 0, (i & 8) !== 0),
      ),
      ...[0, 1, 2, 3].map((i) => s.touch((i & 2) !== 0, (i & 1) !== 0)),
      s.lease,
      s.release,
    ]
    for (const statement of statements) {
      const text = mysql.format(
        `EXPLAIN ${statement.text}`,
        statement.names.map(() => '1'),
      )
      const [rows] = await ctx.pool.promise().query(text)
      const plan = (rows as { possible_keys: string | null; key: string | null }[])[0]
      expect({ text: statement.text, keys: plan?.possible_keys }).toEqual({
        text: statement.text,
        keys: 'PRIMARY',
      })
    }
  })
})

/** A client of the user's own making around mysql2's promise pool, whose methods use `this`. */
class WrappedPool {
  constructor(readonly pool: ReturnType<mysql.Pool['promise']>) {}
  calls = 0
  execute(sql: string, values?: unknown) {
    this.calls++
    return this.pool.execute(sql, values as never)
  }
  query(sql: string, values?: unknown) {
    this.calls++
    return this.pool.query(sql, values as never)
  }
  getConnection() {
    this.calls++
    return this.pool.getConnection()
  }
}

describe.skipIf(reach.skip)("mysql: a client wrapper of the user's own is driven through its methods", () => {
  const table = uniqueTable('wrap')
  let pool: mysql.Pool
  let wrapper: WrappedPool
  let store: SqlSessionStore
  let admin: Admin

  beforeAll(async () => {
    pool = mysql.createPool({ uri: MYSQL_URL, connectionLimit: 2 })
    wrapper = new WrappedPool(pool.promise())
    store = mysqlStore({ client: wrapper, table })
    await store.ensureSchema()
    admin = mysqlAdmin()
  })
  afterAll(async () => {
    await store?.close()
    await pool?.promise().end()
    await admin?.dropTable(table)
    await admin?.close()
  })

  it('reads, writes, sweeps (a transaction on a lent connection) and destroys', async () => {
    const before = wrapper.calls
    const w = await store.write({ key: 'a', data: bytes('1'), ref: 'u', mode: 'insert', ttl: HOUR })
    expect(w.ok).toBe(true)
    const u = await store.write({
      key: 'a',
      data: bytes('2'),
      ref: 'u',
      mode: 'update',
      ttl: HOUR,
      version: 1,
    })
    expect(u.ok && u.version).toBe(2)
    expect(Buffer.from((await store.read('a'))!.data).toString()).toBe('2')
    await store.write({ key: 'gone', data: bytes('x'), ref: null, mode: 'insert', ttl: 1 })
    await new Promise((resolve) => setTimeout(resolve, 30))
    expect(await store.sweep(10)).toEqual([{ key: 'gone', ref: null }])
    expect(await store.destroyByRef('u')).toEqual([{ key: 'a', ref: 'u' }])
    expect(await store.read('a')).toBeNull()
    expect(wrapper.calls - before).toBeGreaterThanOrEqual(7)
  })
})
