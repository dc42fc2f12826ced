// MySQL 8 has no DELETE ... RETURNING: the store then reads the ref and deletes only while it is
// still that ref. No MySQL 8 server runs here, so this runs the real MariaDB with one answer
// changed: the start-up probe hears a MySQL version, and the store takes MySQL's path throughout.
import { describeStore } from '@sessile/core/testing'
import mysql from 'mysql2'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { SqlSessionStore } from '../src/index.js'
import { mysqlStore } from '../src/mysql.js'
import { bytes, HOUR, MYSQL_URL, uniqueTable } from './_helpers/env.js'
import { dropMysqlTables, reachMysql } from './_helpers/reach.js'

const reach = await reachMysql()

/** mysql2's promise pool, answering VERSION() as MySQL 8 would, and noting each statement sent. */
class MysqlEightPool {
  readonly sent: string[] = []
  constructor(readonly pool: ReturnType<mysql.Pool['promise']>) {}
  async execute(sql: string, values?: unknown) {
    this.sent.push(sql)
    const result = await this.pool.execute(sql, values as never)
    const rows = result[0] as Record<string, unknown>[]
    if (/VERSION\(\)/.test(sql) && Array.isArray(rows) && rows[0]) rows[0].v = '8.0.40'
    return result
  }
  query(sql: string, values?: unknown) {
    this.sent.push(sql)
    return this.pool.query(sql, values as never)
  }
  getConnection() {
    return this.pool.getConnection()
  }
}

const pools: mysql.Pool[] = []
const tables: string[] = []
function mysqlEight(table: string): { store: SqlSessionStore; client: MysqlEightPool } {
  const pool = mysql.createPool({ uri: MYSQL_URL, connectionLimit: 4 })
  pools.push(pool)
  const client = new MysqlEightPool(pool.promise())
  return { store: mysqlStore({ client, table }), client }
}

afterAll(async () => {
  for (const pool of pools) await pool.promise().end()
  if (!reach.skip) await dropMysqlTables(...tables)
})

const shared = uniqueTable('my8')
tables.push(shared)
describeStore('mysql 8 path (no DELETE ... RETURNING)', () => mysqlEight(shared).store, { skip: reach.skip })

describe.skipIf(reach.skip)('mysql 8 path: destroy', () => {
  const table = uniqueTable('my8d')
  tables.push(table)
  let store: SqlSessionStore
  let client: MysqlEightPool

  beforeAll(async () => {
    ;({ store, client } = mysqlEight(table))
    await store.ensureSchema()
  })
  afterAll(() => store?.close())

  const put = (key: string, ref: string | null) =>
    store.write({ key, data: bytes('x'), ref, mode: 'insert', ttl: HOUR })
  const deletes = (from: number) => client.sent.slice(from).filter((s) => /^\s*(SELECT|DELETE)/i.test(s))

  it('never sends RETURNING', async () => {
    await put('r1', 'u')
    const from = client.sent.length
    expect(await store.destroy('r1')).toEqual({ key: 'r1', ref: 'u' })
    expect(client.sent.slice(from).some((s) => /RETURNING/i.test(s))).toBe(false)
  })

  it('without a hint: reads the ref, then deletes (two statements)', async () => {
    await put('h0', 'u')
    const from = client.sent.length
    expect(await store.destroy('h0')).toEqual({ key: 'h0', ref: 'u' })
    expect(deletes(from).map((s) => s.trim().split(' ')[0])).toEqual(['SELECT', 'DELETE'])
  })

  it('with the ref read earlier: one DELETE and no read', async () => {
    await put('h1', 'u')
    await put('h2', null)
    const from = client.sent.length
    expect(await store.destroy('h1', { ref: 'u' })).toEqual({ key: 'h1', ref: 'u' })
    expect(await store.destroy('h2', { ref: null })).toEqual({ key: 'h2', ref: null })
    expect(deletes(from).map((s) => s.trim().split(' ')[0])).toEqual(['DELETE', 'DELETE'])
  })

  it('with a stale hint: the miss falls back to reading the ref the row has', async () => {
    await put('h3', 'now-this')
    const from = client.sent.length
    expect(await store.destroy('h3', { ref: 'was-that' })).toEqual({ key: 'h3', ref: 'now-this' })
    expect(deletes(from).map((s) => s.trim().split(' ')[0])).toEqual(['DELETE', 'SELECT', 'DELETE'])
    expect(await store.read('h3')).toBeNull()
  })
})
