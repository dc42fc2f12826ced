// Several hosts and the retry policy, without a cluster: host lists from URLs and options, how
// failures are classed, and failover from a host that refuses connections to one that answers.
import { createServer } from 'node:net'
import { describe, expect, it } from 'vitest'
import { hostUrls } from '../src/_internal/mysql/hosts.js'
import { backoff, claimRaced, classifyMysqlFailure, shouldRetry } from '../src/_internal/mysql/retry.js'
import { type MysqlFailure, mysqlStore } from '../src/mysql.js'
import { MYSQL_URL, uniqueTable } from './_helpers/env.js'
import { dropMysqlTables, reachMysql } from './_helpers/reach.js'

const reach = await reachMysql()

describe('hostUrls', () => {
  it('gives one URL per comma-separated host, with the same user, database and parameters', () => {
    expect(hostUrls('mysql://u:p@a:1,b:2,c/db?ssl=x')).toEqual([
      'mysql://u:p@a:1/db?ssl=x',
      'mysql://u:p@b:2/db?ssl=x',
      'mysql://u:p@c/db?ssl=x',
    ])
    expect(hostUrls('mysql://a:1/db')).toEqual(['mysql://a:1/db'])
  })
  it('takes the hosts option instead of the URL host', () => {
    expect(hostUrls('mysql://root@x:9/test', ['n1:1', 'n2:2'])).toEqual([
      'mysql://root@n1:1/test',
      'mysql://root@n2:2/test',
    ])
  })
})

describe('classifyMysqlFailure', () => {
  it('classes deadlocks, certification failures and lock waits as conflicts, also wrapped in a store error', () => {
    expect(classifyMysqlFailure({ errno: 1213 })).toBe('conflict')
    expect(classifyMysqlFailure({ errno: 1205 })).toBe('conflict')
    expect(classifyMysqlFailure({ sqlState: '40001' })).toBe('conflict')
    expect(classifyMysqlFailure({ cause: { errno: 1213 } })).toBe('conflict')
    expect(classifyMysqlFailure(claimRaced(3, 2))).toBe('conflict')
  })
  it('classes wsrep not-ready, lost connections and refused connections apart; the rest is other', () => {
    expect(classifyMysqlFailure({ errno: 1047 })).toBe('not-ready')
    expect(classifyMysqlFailure({ code: 'PROTOCOL_CONNECTION_LOST' })).toBe('lost')
    expect(classifyMysqlFailure({ code: 'ECONNREFUSED' })).toBe('unreachable')
    expect(classifyMysqlFailure({ errno: 1064 })).toBe('other')
    expect(classifyMysqlFailure(null)).toBe('other')
  })
})

describe('shouldRetry and backoff', () => {
  const policy = { attempts: 8, failover: false }
  it('retries conflicts up to the attempts; failover kinds only with several hosts', () => {
    expect(shouldRetry(policy, 'conflict', 7)).toBe(true)
    expect(shouldRetry(policy, 'conflict', 8)).toBe(false)
    expect(shouldRetry({ ...policy, conflicts: false }, 'conflict', 1)).toBe(false)
    expect(shouldRetry(policy, 'unreachable', 1)).toBe(false)
    expect(shouldRetry({ ...policy, failover: true }, 'unreachable', 1)).toBe(true)
    expect(shouldRetry(policy, 'lost', 4)).toBe(true)
    expect(shouldRetry(policy, 'lost', 5)).toBe(false)
    expect(shouldRetry(policy, 'other', 1)).toBe(false)
  })
  it('jitters conflict pauses within a doubling window', () => {
    const pauses = Array.from({ length: 200 }, () => backoff('conflict', 3))
    expect(Math.max(...pauses)).toBeLessThan(16)
    expect(new Set(pauses.map((p) => Math.floor(p))).size).toBeGreaterThan(5)
  })
})

describe('mysqlStore options', () => {
  it('refuses bad hosts, syncWait and maxAttempts, and hosts with a borrowed client', () => {
    expect(() => mysqlStore({ url: MYSQL_URL, hosts: [] })).toThrow(/hosts/)
    expect(() => mysqlStore({ url: MYSQL_URL, hosts: ['a,b'] })).toThrow(/hosts/)
    expect(() => mysqlStore({ url: MYSQL_URL, syncWait: -1 })).toThrow(/syncWait/)
    expect(() => mysqlStore({ url: MYSQL_URL, maxAttempts: 0 })).toThrow(/maxAttempts/)
    expect(() => mysqlStore({ client: {}, hosts: ['a:1'] })).toThrow(/hosts/)
  })
})

describe.skipIf(reach.skip)('several hosts on MariaDB', () => {
  it('a host that refuses connections is passed over: the next one answers, and retries are reported', async () => {
    // A port that was just free: nothing listens there.
    const server = createServer()
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    const dead = (server.address() as { port: number }).port
    await new Promise<void>((resolve) => server.close(() => resolve()))
    const live = new URL(MYSQL_URL)
    const table = uniqueTable('hosts')
    const seen: MysqlFailure[] = []
    const store = mysqlStore({
      url: MYSQL_URL,
      hosts: [`127.0.0.1:${dead}`, `${live.hostname}:${live.port || 3306}`],
      table,
      onRetry: (f) => seen.push(f),
    })
    try {
      const w = await store.write({ key: 'k', data: new Uint8Array([1]), ref: 'r', mode: 'insert', ttl: 60 })
      expect(w.ok).toBe(true)
      expect((await store.read('k'))?.ref).toBe('r')
      expect(await store.sweep(10)).toEqual([])
      expect(seen).toContain('unreachable')
    } finally {
      await store.close()
      await dropMysqlTables(table)
    }
  })
})
