import { spawn } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createClient } from '@libsql/client'
import { isSessionError } from '@sessile/core'
import Database from 'better-sqlite3'
import { drizzle } from 'drizzle-orm/better-sqlite3'
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest'
import { sqliteDdl } from '../../src/_internal/sqlite/sql.js'
import { sqliteStore } from '../../src/sqlite.js'
import { bytes, HOUR, text } from '../_helpers/env.js'

const dir = mkdtempSync(join(tmpdir(), 'sessile-sqlite-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))
let n = 0
const file = () => join(dir, `t${n++}.db`)
const put = (store: ReturnType<typeof sqliteStore>, key: string, data = 'x', ttl = HOUR) =>
  store.write({ key, data: bytes(data), ref: null, mode: 'upsert', ttl })

const drivers = ['better-sqlite3', 'libsql'] as const

describe('options', () => {
  it('refuses bad options with E_OPTION before opening anything', () => {
    const bad: (() => unknown)[] = [
      () => sqliteStore({ path: '' }),
      () => sqliteStore({ path: 'a\u0000b' }),
      () => sqliteStore({ path: 42 as never }),
      () => sqliteStore({ path: file(), url: 'file:x.db' }),
      () => sqliteStore({ url: 'postgres://h/db' }),
      () => sqliteStore({ url: 'x.db' }),
      () => sqliteStore({ client: {} as never }),
      () => sqliteStore({ db: {} as never }),
      () => sqliteStore({ driver: 'sqlite3' as never }),
      () => sqliteStore({ busyTimeout: -1 }),
      () => sqliteStore({ busyTimeout: 1.5 }),
      () => sqliteStore({ synchronous: 'off' as never }),
      () => sqliteStore({ path: file(), authToken: 't' }),
      () => sqliteStore({ table: 'sqlite_sessions' }),
      () => sqliteStore({ table: '' }),
      () => sqliteStore({ maxDataBytes: 1_000_000_001 }),
    ]
    for (const make of bad)
      expect(make).toThrow(expect.objectContaining({ code: 'E_OPTION', name: 'SessionError' }))
  })

  it('fails with E_STORE, not a crash, when the file cannot be opened, and tries again on the next call', async () => {
    const blocker = join(dir, `blocker${n++}`)
    // A file where the directory should be: mkdir fails until it is gone.
    rmSync(blocker, { force: true })
    const { writeFileSync } = await import('node:fs')
    writeFileSync(blocker, 'not a directory')
    const store = sqliteStore({ path: join(blocker, 'sessions.db') })
    await expect(store.count()).rejects.toSatisfy((e) => isSessionError(e) && e.code === 'E_STORE')
    rmSync(blocker)
    expect(await store.count()).toBe(0)
    await store.close()
  })
})

describe.each(drivers)('%s: files the store opens', (driver) => {
  it('are in WAL mode (with synchronous NORMAL or FULL)', async () => {
    const path = file()
    const store = sqliteStore({ path, driver })
    await put(store, 'k')
    const full = sqliteStore({ path: file(), driver, synchronous: 'full' })
    await put(full, 'k')
    const probe = new Database(path, { readonly: true })
    try {
      expect(probe.pragma('journal_mode', { simple: true })).toBe('wal')
    } finally {
      probe.close()
    }
    await store.close()
    await full.close()
  })

  it('wait for another process holding the write lock instead of failing', async () => {
    const path = file()
    const store = sqliteStore({ path, driver })
    await put(store, 'before')
    const holder = await holdWriteLock(path, 400)
    const started = Date.now()
    // better-sqlite3 waits inside SQLite (blocking this process, as with any synchronous
    // driver); the write lands once the other process commits.
    const r = await put(store, 'during')
    expect(r.ok).toBe(true)
    expect(Date.now() - started).toBeGreaterThanOrEqual(200)
    await holder.done
    expect(text((await store.read('during'))!.data)).toBe('x')
    expect(await store.read('other-process')).not.toBeNull()
    await store.close()
  })

  it('give E_STORE naming SQLITE_BUSY when the lock outlasts the busy timeout, and change nothing', async () => {
    const path = file()
    const store = sqliteStore({ path, driver, busyTimeout: 0 })
    await put(store, 'k', 'old')
    const holder = await holdWriteLock(path, 1500)
    const e = await put(store, 'k', 'new').catch((error: unknown) => error)
    expect(isSessionError(e) && e.code === 'E_STORE').toBe(true)
    expect(String((e as Error).message)).toMatch(/SQLITE_BUSY|database is locked/i)
    await holder.done
    expect(text((await store.read('k'))!.data)).toBe('old')
    await store.close()
  })
})

describe('time', () => {
  afterEach(() => {
    vi.restoreAllMocks()
  })

  it.each(drivers)('%s: expiry follows the database clock, not the app clock', async (driver) => {
    const store = sqliteStore({ path: ':memory:', driver })
    const real = Date.now()
    vi.spyOn(Date, 'now').mockReturnValue(real + 10 * 60_000)
    await put(store, 'k', 'x', 60_000)
    const row = await store.read('k')
    expect(Math.abs(row!.now.getTime() - real)).toBeLessThan(5_000)
    expect(row!.expiry.getTime() - row!.now.getTime()).toBeLessThanOrEqual(60_000)
    expect(row!.expiry.getTime() - row!.now.getTime()).toBeGreaterThan(55_000)
    await store.close()
  })
})

describe('borrowed databases', () => {
  it('a better-sqlite3 Database or a drizzle-orm/better-sqlite3 db is used and never closed', async () => {
    const sqlite = new Database(':memory:')
    const viaClient = sqliteStore({ client: sqlite })
    await put(viaClient, 'a')
    await viaClient.close()
    expect(sqlite.open).toBe(true)
    const viaDb = sqliteStore({ db: drizzle(sqlite) as never })
    expect(await viaDb.read('a')).not.toBeNull()
    await viaDb.close()
    expect(sqlite.prepare('SELECT count(*) AS n FROM sessions').get()).toEqual({ n: 1 })
    sqlite.close()
  })

  it('a @libsql/client Client is used and never closed', async () => {
    const client = createClient({ url: ':memory:' })
    const store = sqliteStore({ client: client as never })
    await put(store, 'a', 'libsql')
    await store.close()
    expect(client.closed).toBe(false)
    const rs = await client.execute('SELECT count(*) AS n FROM sessions')
    expect(Number(rs.rows[0]?.n)).toBe(1)
    client.close()
  })
})

describe('updates', () => {
  it.each(drivers)(
    '%s: an update that changes the ref (the second statement) moves it, and still checks the version',
    async (driver) => {
      const store = sqliteStore({ path: ':memory:', driver })
      const w = (ref: string | null, version?: number) =>
        store.write({ key: 'k', data: bytes(`as ${ref}`), ref, mode: 'update', ttl: HOUR, version })
      await store.write({ key: 'k', data: bytes('x'), ref: 'alice', mode: 'insert', ttl: HOUR })
      expect(await w('alice', 1)).toMatchObject({ ok: true, version: 2 })
      expect(await w('bob', 2)).toMatchObject({ ok: true, version: 3 })
      expect((await store.findByRef('bob')).map((r) => r.key)).toEqual(['k'])
      expect(await store.findByRef('alice')).toEqual([])
      expect(await w(null, 2)).toEqual({ ok: false, reason: 'conflict' })
      expect(await w(null, 3)).toMatchObject({ ok: true, version: 4 })
      expect((await store.read('k'))!.ref).toBeNull()
      expect(await store.refs(10)).toEqual([])
      await store.close()
    },
  )
})

describe('table names', () => {
  it('any name is one quoted identifier: quotes and semicolons stay part of it', async () => {
    const table = `odd"; DROP TABLE victims; --`
    const sqlite = new Database(':memory:')
    sqlite.exec('CREATE TABLE victims (x)')
    const store = sqliteStore({ client: sqlite, table })
    await put(store, 'k', 'v')
    expect(text((await store.read('k'))!.data)).toBe('v')
    const tables = sqlite.prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name").all()
    expect(tables).toEqual([{ name: table }, { name: 'victims' }])
    await store.close()
    sqlite.close()
  })
})

describe('the shipped DDL', () => {
  const statements = (sql: string) =>
    sql
      .replace(/^--.*$/gm, '')
      .split(/;|--> statement-breakpoint/)
      .map((s) => s.replace(/\s+/g, ' ').trim())
      .filter((s) => s.length > 0)
  const read = (path: string) => readFileSync(new URL(path, import.meta.url), 'utf8')

  it('docs/sql/sqlite.sql is what ensureSchema runs', () => {
    expect(statements(read('../../../../docs/sql/sqlite.sql'))).toEqual(
      statements(sqliteDdl('sessions').join(';')),
    )
  })

  it('the drizzle-kit migration makes the same table, and the store runs on it with createTable: false', async () => {
    const migrated = new Database(':memory:')
    for (const s of statements(read('../../drizzle/sqlite/0000_sessions.sql'))) migrated.exec(s)
    const ensured = new Database(':memory:')
    await sqliteStore({ client: ensured }).ensureSchema()
    const shape = (db: Database.Database) => ({
      columns: db.prepare('SELECT name, type, "notnull", pk FROM pragma_table_info(\'sessions\')').all(),
      indexes: db
        .prepare("SELECT name FROM pragma_index_list('sessions') WHERE origin = 'c' ORDER BY name")
        .all(),
    })
    expect(shape(migrated)).toEqual(shape(ensured))
    const store = sqliteStore({ client: migrated, createTable: false })
    await put(store, 'k', 'on the migrated table')
    expect(text((await store.read('k'))!.data)).toBe('on the migrated table')
    migrated.close()
    ensured.close()
  })
})

/** Another process takes the write lock (BEGIN IMMEDIATE), writes a row, and commits after `ms`. */
async function holdWriteLock(path: string, ms: number): Promise<{ done: Promise<void> }> {
  const script = `
    const Database = require('better-sqlite3')
    const db = new Database(${JSON.stringify(path)}, { timeout: 5000 })
    db.exec('BEGIN IMMEDIATE')
    db.prepare("INSERT INTO sessions (key, data, ref, created, modified, expiry, version) VALUES ('other-process', x'00', NULL, 0, 0, 9e15, 1)").run()
    console.log('LOCKED')
    setTimeout(() => { db.exec('COMMIT'); db.close() }, ${ms})
  `
  const child = spawn(process.execPath, ['-e', script], {
    cwd: new URL('../..', import.meta.url),
    stdio: ['ignore', 'pipe', 'inherit'],
  })
  await new Promise<void>((resolve, reject) => {
    child.stdout.on('data', (d: Buffer) => {
      if (String(d).includes('LOCKED')) resolve()
    })
    child.on('exit', (code) => reject(new Error(`lock holder exited ${code} before locking`)))
  })
  const done = new Promise<void>((resolve, reject) =>
    child.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`lock holder exited ${code}`)))),
  )
  return { done }
}
