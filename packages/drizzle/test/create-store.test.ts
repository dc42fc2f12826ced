import { mkdtemp, rm, stat } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { isSessionError } from '@sessile/core'
import { afterAll, describe, expect, it } from 'vitest'
import { createStore, parseStoreUrl, type SqlSessionStore } from '../src/index.js'
import { mysqlStore } from '../src/mysql.js'
import { pgStore } from '../src/pg.js'
import { pgliteStore } from '../src/pglite.js'
import { bytes, HOUR, MYSQL_URL, PG_URL, text, uniqueTable } from './_helpers/env.js'
import { dropMysqlTables, dropPgTables, reachMysql, reachPg } from './_helpers/reach.js'

const pgReach = await reachPg()
const mysqlReach = await reachMysql()
const isOptionError = (e: unknown) => isSessionError(e) && e.code === 'E_OPTION'

describe('parseStoreUrl', () => {
  it('tells every supported URL form apart', () => {
    expect(parseStoreUrl('postgres://u@h:5432/db')).toEqual({ dialect: 'pg', url: 'postgres://u@h:5432/db' })
    expect(parseStoreUrl('postgresql://u@h/db')).toEqual({ dialect: 'pg', url: 'postgresql://u@h/db' })
    expect(parseStoreUrl('mysql://root@h:3306/db')).toEqual({
      dialect: 'mysql',
      url: 'mysql://root@h:3306/db',
    })
    expect(parseStoreUrl('mariadb://root@h/db')).toEqual({ dialect: 'mysql', url: 'mysql://root@h/db' })
    expect(parseStoreUrl('MariaDB://root@h/db').dialect).toBe('mysql')
    expect(parseStoreUrl('pglite:memory')).toEqual({ dialect: 'pglite' })
    expect(parseStoreUrl('pglite://memory')).toEqual({ dialect: 'pglite' })
    expect(parseStoreUrl('pglite://./data/sessions')).toEqual({
      dialect: 'pglite',
      dataDir: './data/sessions',
    })
    expect(parseStoreUrl('pglite:///var/lib/s%20p')).toEqual({ dialect: 'pglite', dataDir: '/var/lib/s p' })
    expect(parseStoreUrl('sqlite:./data/sessions.db')).toEqual({
      dialect: 'sqlite',
      path: './data/sessions.db',
    })
    expect(parseStoreUrl('sqlite://./data/sessions.db')).toEqual({
      dialect: 'sqlite',
      path: './data/sessions.db',
    })
    expect(parseStoreUrl('sqlite:///var/lib/s%20p.db')).toEqual({
      dialect: 'sqlite',
      path: '/var/lib/s p.db',
    })
    expect(parseStoreUrl('sqlite::memory:')).toEqual({ dialect: 'sqlite', path: ':memory:' })
    expect(parseStoreUrl('sqlite:memory')).toEqual({ dialect: 'sqlite', path: ':memory:' })
    expect(parseStoreUrl('libsql://db.example.org')).toEqual({
      dialect: 'sqlite',
      url: 'libsql://db.example.org',
    })
  })

  it('refuses unknown schemes and non-strings with E_OPTION', () => {
    for (const bad of [
      'sqlserver://h/db',
      'file:x.db',
      'redis://h',
      'http://h',
      'postgres',
      '',
      'memory',
      42,
      null,
      undefined,
    ]) {
      expect(() => createStore(bad as string)).toThrow(
        expect.objectContaining({ code: 'E_OPTION', name: 'SessionError' }),
      )
    }
  })

  it('points redis:// and rediss:// URLs to @sessile/redis', () => {
    for (const url of ['redis://127.0.0.1:6379', 'REDISS://h:6380/0']) {
      expect(() => createStore(url)).toThrow(/URLs name a Redis: use createStore of @sessile\/redis/)
    }
  })
})

describe('store options are checked at construction', () => {
  it('refuses bad options with E_OPTION before connecting', () => {
    const bad: (() => unknown)[] = [
      () => pgStore({}),
      () => pgStore({ url: PG_URL, client: {} as never }),
      () => pgStore({ url: 'mysql://x/y' }),
      () => pgStore({ url: PG_URL, table: '' }),
      () => pgStore({ url: PG_URL, table: 'a\u0000b' }),
      () => pgStore({ url: PG_URL, table: 'x'.repeat(64) }),
      () => pgStore({ url: PG_URL, createTable: 'yes' as never }),
      () => pgStore({ url: PG_URL, maxDataBytes: 0 }),
      () => pgStore({ url: PG_URL, maxDataBytes: 1.5 }),
      () => pgStore({ url: PG_URL, max: 0 }),
      () => pgStore({ db: {} as never }),
      () => mysqlStore({ url: 'postgres://x/y' }),
      () => mysqlStore({ client: { nope: true } }),
      () => mysqlStore({ url: MYSQL_URL, connectionLimit: -1 }),
      () => mysqlStore({ url: MYSQL_URL, maxDataBytes: 2 * 1024 * 1024 * 1024 }),
      () => pgliteStore({ dataDir: '' }),
      () => pgliteStore({ dataDir: '/tmp/x', client: {} as never }),
      () => pgliteStore({ client: {} as never }),
      () => createStore('pglite:memory', { table: 42 as never }),
      () => createStore('sqlite::memory:', { maxDataBytes: 1_000_000_001 }),
    ]
    for (const make of bad) expect(make).toThrow(expect.objectContaining({ code: 'E_OPTION' }))
    expect(isOptionError(captured(() => pgStore({})))).toBe(true)
  })
})

function captured(fn: () => unknown): unknown {
  try {
    fn()
  } catch (error) {
    return error
  }
  return undefined
}

async function roundTrip(store: SqlSessionStore): Promise<void> {
  const w = await store.write({ key: 'k', data: bytes('hello'), ref: 'r', mode: 'insert', ttl: HOUR })
  expect(w.ok).toBe(true)
  expect(text((await store.read('k'))!.data)).toBe('hello')
}

describe('createStore picks the dialect from the URL and works', () => {
  const cleanups: (() => Promise<void>)[] = []
  afterAll(async () => {
    for (const c of cleanups) await c()
  })

  it.skipIf(pgReach.skip)('postgres:// and postgresql://', async () => {
    for (const url of [PG_URL, PG_URL.replace(/^postgres:/, 'postgresql:')]) {
      const table = uniqueTable('url')
      const store = createStore(url, { table })
      cleanups.push(() => dropPgTables(table))
      expect(store.name).toBe('pg')
      expect(store.table).toBe(table)
      await roundTrip(store)
      await store.close()
    }
  })

  it.skipIf(mysqlReach.skip)('mysql:// and mariadb://', async () => {
    for (const url of [MYSQL_URL, MYSQL_URL.replace(/^mysql:/, 'mariadb:')]) {
      const table = uniqueTable('url')
      const store = createStore(url, { table })
      cleanups.push(() => dropMysqlTables(table))
      expect(store.name).toBe('mysql')
      await roundTrip(store)
      // The real store's limit shows through once loaded (capped by max_allowed_packet).
      expect(store.maxDataBytes).toBeLessThanOrEqual(16 * 1024 * 1024)
      await store.close()
    }
  })

  it('sqlite::memory: and sqlite:<file>, whose missing directory is made and whose data outlives the store', async () => {
    const memory = createStore('sqlite::memory:')
    expect(memory.name).toBe('sqlite')
    await roundTrip(memory)
    await memory.close()
    await expect(memory.count()).rejects.toSatisfy((e) => isSessionError(e) && e.code === 'E_STORE')

    const dir = await mkdtemp(join(tmpdir(), 'sessile-sqlite-'))
    cleanups.push(() => rm(dir, { recursive: true, force: true }))
    const file = join(dir, 'not', 'yet', 'sessions.db')
    const first = createStore(`sqlite:${file}`)
    await roundTrip(first)
    await first.close()
    const second = createStore(`sqlite://${file}`)
    expect(text((await second.read('k'))!.data)).toBe('hello')
    await second.close()
  })

  it('pglite:memory and pglite://<dir>, where data outlives the store', { timeout: 60_000 }, async () => {
    const memory = createStore('pglite:memory')
    expect(memory.name).toBe('pglite')
    await roundTrip(memory)
    await memory.close()
    await expect(memory.count()).rejects.toSatisfy((e) => isSessionError(e) && e.code === 'E_STORE')

    const dir = await mkdtemp(join(tmpdir(), 'sessile-pglite-'))
    cleanups.push(() => rm(dir, { recursive: true, force: true }))
    const first = createStore(`pglite://${dir}`)
    await roundTrip(first)
    await first.close()
    const second = createStore(`pglite://${dir}`)
    expect(text((await second.read('k'))!.data)).toBe('hello')
    await second.close()
  })

  it('pglite://<dir> creates missing parent directories (a README default on a fresh checkout)', {
    timeout: 60_000,
  }, async () => {
    const dir = await mkdtemp(join(tmpdir(), 'sessile-pglite-'))
    cleanups.push(() => rm(dir, { recursive: true, force: true }))
    const nested = join(dir, 'data', 'sessions')
    const store = createStore(`pglite://${nested}`)
    await roundTrip(store)
    await store.close()
    expect((await stat(join(nested, 'PG_VERSION'))).isFile()).toBe(true)
  })
})
