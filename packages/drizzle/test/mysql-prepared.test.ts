import mysql from 'mysql2'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { mysqlStatements } from '../src/_internal/mysql-sql.js'
import type { SqlSessionStore } from '../src/index.js'
import { mysqlStore } from '../src/mysql.js'
import { type Admin, mysqlAdmin } from './_helpers/admin.js'
import { bytes, HOUR, MYSQL_URL, uniqueTable } from './_helpers/env.js'
import { reachMysql } from './_helpers/reach.js'

const reach = await reachMysql()

/**
 * The store prepares each statement once per connection and executes it directly, skipping
 * mysql2's per-call Prepare command. One pooled connection here, so the server's own counters of
 * that connection say what reached it.
 */
describe.skipIf(reach.skip)('mysql: statements prepared once per connection', () => {
  const table = uniqueTable('prep')
  let pool: mysql.Pool
  let store: SqlSessionStore
  let admin: Admin

  const status = async (name: string): Promise<number> => {
    const [rows] = await pool.promise().query(`SHOW SESSION STATUS LIKE '${name}'`)
    return Number((rows as { Value: string }[])[0]?.Value)
  }

  beforeAll(async () => {
    pool = mysql.createPool({ uri: MYSQL_URL, connectionLimit: 1 })
    store = mysqlStore({ client: pool, table })
    await store.ensureSchema()
    admin = mysqlAdmin()
  })
  afterAll(async () => {
    await store?.close()
    await pool?.promise().end()
    await admin?.dropTable(table)
    await admin?.close()
  })

  it('100 reads and writes of one statement each prepare it once', async () => {
    await store.write({ key: 'a', data: bytes('0'), ref: null, mode: 'insert', ttl: HOUR })
    await store.read('a')
    const prepared = await status('Com_stmt_prepare')
    const executed = await status('Com_stmt_execute')
    for (let i = 1; i <= 50; i++) {
      const w = await store.write({
        key: 'a',
        data: bytes(String(i)),
        ref: null,
        mode: 'update',
        ttl: HOUR,
        version: i,
        keepExpiry: true,
      })
      expect(w.ok && w.version).toBe(i + 1)
      expect(Buffer.from((await store.read('a'))!.data).toString()).toBe(String(i))
    }
    // The keepExpiry update is new here: one more prepare, then only executions.
    expect((await status('Com_stmt_prepare')) - prepared).toBe(1)
    expect((await status('Com_stmt_execute')) - executed).toBe(100)
  })

  it('a statement the server no longer knows is prepared again, and the call succeeds', async () => {
    await store.write({ key: 'b', data: bytes('x'), ref: null, mode: 'upsert', ttl: HOUR })
    expect(await store.read('b')).not.toBeNull()
    // What mysql2 does to a statement it evicts from its own cache: close it on the server.
    const read = mysqlStatements(table).read.text
    await new Promise<void>((resolve, reject) =>
      pool.getConnection((error, conn) => {
        if (error) return reject(error)
        conn.unprepare(read)
        conn.release()
        resolve()
      }),
    )
    const prepared = await status('Com_stmt_prepare')
    const row = await store.read('b')
    expect(Buffer.from(row!.data).toString()).toBe('x')
    expect((await status('Com_stmt_prepare')) - prepared).toBe(1)
  })
})
