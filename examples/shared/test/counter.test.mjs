// Each example's counter under parallel requests, on PostgreSQL and MariaDB: 100 requests, 20 at a
// time, on one cookie must add exactly 100 (the examples run the manager in serialised mode).
// Also: a POST without a body is no 500, and a database that is down at start-up is a clear message.
import assert from 'node:assert/strict'
import { after, describe, it } from 'node:test'
import { EXAMPLES, MYSQL_URL, PG_URL, reachable, startExample, startFailing, viewsOf } from './_helpers.mjs'

const dbs = [
  ['PostgreSQL', 'pg', PG_URL],
  ['MariaDB', 'mysql', MYSQL_URL],
]

for (const [dbName, kind, url] of dbs) {
  describe(`examples on ${dbName}`, async () => {
    const db = await reachable(kind)
    after(() => db.end?.())
    for (const name of EXAMPLES) {
      it(`${name}: 100 requests, 20 at a time, add exactly 100; a bodyless POST /login is no 500`, {
        skip: !db.ok,
        timeout: 240_000,
      }, async () => {
        const table = `ex_counter_${name}_${process.pid}`
        const app = await startExample(name, { DATABASE_URL: url, SESSILE_TABLE: table })
        try {
          const first = await fetch(`${app.url}/`)
          assert.equal(first.status, 200)
          const cookie = first.headers
            .getSetCookie()
            .map((c) => c.split(';')[0])
            .join('; ')
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
        } finally {
          const end = await app.stop()
          await db.drop(table)
          assert.equal(end?.code, 0, `${name} exits 0 on SIGTERM`)
        }
      })
    }
  })
}

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
})
