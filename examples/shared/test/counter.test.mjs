// Each example's counter under parallel requests, on the zero-setup default (a SQLite file, no
// DATABASE_URL), PostgreSQL, MariaDB and Redis: 100 requests, 20 at a time, on one cookie must add
// exactly 100 (the examples run the manager in serialised mode). Also: a POST without a body is no
// 500, a database that is down at start-up is a clear message, an outage of PostgreSQL or Redis
// while running is a 503 page and the same cookie works after it, and PGlite stays reachable by
// its URL.
import assert from 'node:assert/strict'
import { existsSync } from 'node:fs'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, describe, it } from 'node:test'
import { createTcpProxy } from '@sessile/core/testing'
import { sqliteStore } from '@sessile/drizzle/sqlite'
import {
  EXAMPLES,
  MYSQL_URL,
  PG_URL,
  REDIS_URL,
  reachable,
  startExample,
  startFailing,
  viewsOf,
} from './_helpers.mjs'

/** The default with no configuration: a SQLite file at SQLITE_PATH, in a directory made for it. */
const embedded = {
  reachable: async () => ({ ok: true }),
  open: async (name) => {
    const dir = await mkdtemp(join(tmpdir(), 'sessile-ex-'))
    const path = join(dir, 'data', 'sessions.db') // the store makes the missing directory
    return {
      env: { DATABASE_URL: undefined, SQLITE_PATH: path },
      // The sessions are in that file, not in some other default database.
      check: async (app) => {
        assert.match(app.output(), /embedded SQLite/, `${name} says where its sessions are`)
        assert.ok(existsSync(path), `${path} exists`)
        const store = sqliteStore({ path, createTable: false })
        try {
          assert.ok((await store.count()) >= 1, "the visitor's session is in the file")
        } finally {
          await store.close()
        }
      },
      cleanup: () => rm(dir, { recursive: true, force: true }),
    }
  },
}
/** The Cookie header that sends back every cookie a response set. */
const cookieOf = (res) =>
  res.headers
    .getSetCookie()
    .map((c) => c.split(';')[0])
    .join('; ')

const server = (kind, url) => {
  let db
  return {
    reachable: async () => {
      db = await reachable(kind)
      return db
    },
    open: async (name) => {
      const table = `ex_counter_${name}_${process.pid}`
      return {
        env: { DATABASE_URL: url, SESSILE_TABLE: table },
        check: async () => {},
        cleanup: () => db.drop(table),
      }
    },
  }
}

const dbs = [
  ['SQLite, no DATABASE_URL', embedded],
  ['PostgreSQL', server('pg', PG_URL)],
  ['MariaDB', server('mysql', MYSQL_URL)],
  ['Redis', server('redis', REDIS_URL)],
]

for (const [dbName, kind] of dbs) {
  describe(`examples on ${dbName}`, async () => {
    const db = await kind.reachable()
    after(() => db.end?.())
    for (const name of EXAMPLES) {
      it(`${name}: 100 requests, 20 at a time, add exactly 100; a bodyless POST /login is no 500`, {
        skip: !db.ok,
        timeout: 240_000,
      }, async () => {
        const target = await kind.open(name)
        const app = await startExample(name, target.env)
        try {
          const first = await fetch(`${app.url}/`)
          assert.equal(first.status, 200)
          const cookie = cookieOf(first)
          assert.ok(cookie, 'the first visit sets a cookie')
          const start = viewsOf(await first.text())
          assert.equal(start, 1)
          const get = async () => {
            const r = await fetch(`${app.url}/`, { headers: { cookie } })
            assert.equal(r.status, 200)
            return viewsOf(await r.text())
          }
          for (let round = 0; round < 5; round++) await Promise.all(Array.from({ length: 20 }, get))
          // The next visit is the 102nd: 1 + 100 + this one.
          assert.equal(await get(), start + 101)

          const login = await fetch(`${app.url}/login`, {
            method: 'POST',
            headers: { cookie },
            redirect: 'manual',
          })
          assert.ok(login.status < 500, `bodyless POST /login answered ${login.status}`)
          await target.check(app)
        } finally {
          const end = await app.stop()
          await target.cleanup()
          assert.equal(end?.code, 0, `${name} exits 0 on SIGTERM`)
        }
      })
    }
  })
}

// PGlite was the default before SQLite; it is still one URL away.
describe('PGlite by its URL', () => {
  it('express: DATABASE_URL=pglite://<dir> keeps the sessions in PGlite', { timeout: 240_000 }, async () => {
    const dir = await mkdtemp(join(tmpdir(), 'sessile-ex-'))
    const app = await startExample('express', {
      DATABASE_URL: `pglite://${dir}/pglite`,
      SQLITE_PATH: undefined,
    })
    try {
      assert.match(app.output(), /pglite:\/\//)
      const first = await fetch(`${app.url}/`)
      const cookie = cookieOf(first)
      assert.equal(viewsOf(await first.text()), 1)
      const second = await fetch(`${app.url}/`, { headers: { cookie } })
      assert.equal(viewsOf(await second.text()), 2)
      assert.ok(existsSync(join(dir, 'pglite', 'PG_VERSION')), 'PGlite made its data directory')
    } finally {
      const end = await app.stop()
      await rm(dir, { recursive: true, force: true })
      assert.equal(end?.code, 0, 'express exits 0 on SIGTERM')
    }
  })
})

describe('a database that is down at start-up', () => {
  for (const name of EXAMPLES) {
    it(`${name}: exits with a message naming the database, before it listens`, {
      timeout: 90_000,
    }, async () => {
      // Port 9 (discard) on loopback: nothing listens there.
      const { code, output } = await startFailing(name, {
        DATABASE_URL: 'postgres://postgres@127.0.0.1:9/test',
      })
      assert.equal(code, 1)
      assert.match(output, /Cannot reach the session database, postgres:\/\/postgres@127\.0\.0\.1:9\/test/)
      assert.doesNotMatch(output, /on http:\/\/localhost/)
    })
  }
  it('express on Redis: exits with a message naming Redis and the refused connection', {
    timeout: 90_000,
  }, async () => {
    const { code, output } = await startFailing('express', { DATABASE_URL: 'redis://127.0.0.1:9' })
    assert.equal(code, 1)
    assert.match(output, /Cannot reach the session database, redis:\/\/127\.0\.0\.1:9, keys sessions:\*/)
    assert.match(output, /connect ECONNREFUSED 127\.0\.0\.1:9/)
    assert.doesNotMatch(output, /maxRetriesPerRequest/)
    assert.doesNotMatch(output, /on http:\/\/localhost/)
  })
})

for (const [dbName, kind, url, port] of [
  ['PostgreSQL', 'pg', PG_URL, 5432],
  ['Redis', 'redis', REDIS_URL, 6379],
]) {
  describe(`a database outage while running (${dbName} behind a proxy this test cuts)`, async () => {
    const db = await reachable(kind)
    after(() => db.end?.())
    for (const name of EXAMPLES) {
      it(`${name}: a new visitor gets a 503 page, never "1 visit"; the same cookie works after recovery`, {
        skip: !db.ok,
        timeout: 180_000,
      }, async () => {
        const table = `ex_outage_${name}_${process.pid}`
        const target = new URL(url)
        const proxy = await createTcpProxy({ host: target.hostname, port: Number(target.port || port) })
        const app = await startExample(name, { DATABASE_URL: proxy.url(url), SESSILE_TABLE: table })
        try {
          const first = await fetch(`${app.url}/`)
          const cookie = cookieOf(first)
          assert.equal(viewsOf(await first.text()), 1)
          await proxy.cut()
          const fresh = await fetch(`${app.url}/`)
          const text = await fresh.text()
          assert.equal(fresh.status, 503)
          assert.match(text, /Sessions are unavailable/)
          assert.ok(Number.isNaN(viewsOf(text)), 'no visit count is shown while nothing could be stored')
          const known = await fetch(`${app.url}/`, { headers: { cookie } })
          assert.equal(known.status, 503)
          await known.text()
          await proxy.restore()
          let back
          for (let i = 0; i < 20; i++) {
            back = await fetch(`${app.url}/`, { headers: { cookie } })
            if (back.status === 200) break
            await back.text()
            await new Promise((r) => setTimeout(r, 500))
          }
          assert.equal(back.status, 200)
          assert.equal(viewsOf(await back.text()), 2, 'the same cookie counts on after the outage')
          assert.doesNotMatch(app.output(), /ERR_HTTP_HEADERS_SENT/)
        } finally {
          await proxy.restore().catch(() => {})
          const end = await app.stop()
          await proxy.close()
          await db.drop(table)
          assert.equal(end?.code, 0, `${name} exits 0 on SIGTERM`)
        }
      })
    }
  })
}
