// Over 300 lines on purpose: one suite of short HTTP exchanges against one route contract, sharing
// the request helpers and the per-test clean-up inside its describe block.

import { setTimeout as sleep } from 'node:timers/promises'
import { afterEach, describe, expect, it } from 'vitest'
import { createSessions, type Sessions } from '../manager.js'
import type { SessionsOptions } from '../options.js'
import type { SessionStore } from '../store.js'
import { applySetCookie, header, type Jar } from './cookie-jar.js'

/** A running test app: the suite talks to it over real HTTP. */
export interface HttpAdapterApp {
  /** Base URL, e.g. `http://127.0.0.1:41234`. */
  url: string
  close(): Promise<void>
}

/**
 * Options of {@link describeHttpAdapter}.
 *
 * `start(sessions)` must serve this route contract with the adapter under test:
 * - `GET /count`: add 1 to the session field `count` (a number), reply `{ "count": n }`.
 * - `GET /data`: change nothing, reply `{ "data": { ...the session's fields } }`.
 * - `POST /set?name=N&value=V&delay=MS`: after the session was loaded, wait `delay` ms (default 0),
 *   set field `N` to the string `V`, reply `{ "ok": true }`.
 * - `POST /login?user=U`: regenerate the session id and set field `user` to `U`.
 * - `POST /logout`: destroy the session.
 * - A `SessionError` ends the request with its `statusCode` (503 when the store is down).
 *
 * Session cookies must be plain-HTTP cookies (the suite talks to 127.0.0.1 without TLS). When the
 * framework has a cookie lifetime (express-session `cookie.maxAge`, koa-session `maxAge`), set it
 * to `sessions.options.idle` so the store and the cookie agree.
 */
export interface DescribeHttpAdapterOptions {
  /** A store for one test; the suite calls `clear()` and `close()` on it. */
  store: () => SessionStore | Promise<SessionStore>
  /** Start the app on 127.0.0.1 (port 0) with the adapter under test. */
  start: (sessions: Sessions) => Promise<HttpAdapterApp>
  /** Extra options for `createSessions` (the suite sets `store`, `ref` and timeouts). */
  sessionsOptions?: Omit<SessionsOptions, 'store'>
  /**
   * Run the outage test: `store()` must reach its database through something `cut()` can break
   * (a TCP proxy) and `restore()` can mend. Never stop a shared database server for this.
   */
  outage?: {
    store: () => SessionStore | Promise<SessionStore>
    cut: () => void | Promise<void>
    restore: () => void | Promise<void>
  }
  /** Skip the whole suite (e.g. its database is unreachable locally). */
  skip?: boolean
  /** Per-test timeout in ms. @default 30000 */
  timeout?: number
}

interface Reply {
  status: number
  body: Record<string, unknown>
  setCookie: string[]
}

/**
 * The HTTP-level suite every framework adapter passes: it drives a real server over `fetch`,
 * keeps cookies itself and checks the store behind the app.
 *
 * @example
 * describeHttpAdapter('hono', {
 *   store: () => new MemoryStore(),
 *   start: async (sessions) => serveHonoApp(sessions),
 * })
 */
export function describeHttpAdapter(name: string, options: DescribeHttpAdapterOptions): void {
  const timeout = options.timeout ?? 30_000
  describe.skipIf(options.skip === true)(`HTTP adapter: ${name}`, { timeout }, () => {
    const cleanup: (() => Promise<void>)[] = []

    afterEach(async () => {
      while (cleanup.length > 0) await cleanup.pop()?.()
    })

    /** An app on a new store, or (`shared`) a second app server on the store of an earlier one. */
    async function open(
      more: Omit<SessionsOptions, 'store'> = {},
      makeStore: () => SessionStore | Promise<SessionStore> = options.store,
      shared?: SessionStore,
    ) {
      const store = shared ?? (await makeStore())
      if (!shared) {
        cleanup.push(() => store.close())
        await store.clear()
        cleanup.push(() => store.clear())
      }
      const sessions = createSessions({
        ref: (data) => (typeof data.user === 'string' ? data.user : null),
        ...options.sessionsOptions,
        ...more,
        store,
      })
      const app = await options.start(sessions)
      cleanup.push(() => app.close())

      async function call(jar: Jar | string, method: string, path: string): Promise<Reply> {
        const cookie = typeof jar === 'string' ? jar : header(jar)
        const res = await fetch(app.url + path, {
          method,
          headers: cookie ? { cookie } : {},
          redirect: 'manual',
        })
        const text = await res.text()
        let body: Record<string, unknown> = {}
        try {
          body = JSON.parse(text) as Record<string, unknown>
        } catch {
          body = { text }
        }
        const setCookie = res.headers.getSetCookie()
        if (typeof jar !== 'string') applySetCookie(jar, setCookie)
        return { status: res.status, body, setCookie }
      }
      const data = async (jar: Jar | string) => {
        const r = await call(jar, 'GET', '/data')
        expect(r.status).toBe(200)
        return r.body.data as Record<string, unknown>
      }
      return { sessions, store, call, data }
    }

    it('the counter increments across requests and keeps one row', async () => {
      const { call, sessions } = await open()
      const jar: Jar = new Map()
      for (let i = 1; i <= 5; i++) {
        const r = await call(jar, 'GET', '/count')
        expect(r.status).toBe(200)
        expect(r.body.count).toBe(i)
      }
      expect(jar.size).toBeGreaterThan(0)
      expect(await sessions.count()).toBe(1)
      // Another client starts its own count.
      const other: Jar = new Map()
      expect((await call(other, 'GET', '/count')).body.count).toBe(1)
      expect(await sessions.count()).toBe(2)
    })

    it('a read-only request sets no new cookie and writes no new row', async () => {
      const { call, sessions } = await open()
      const jar: Jar = new Map()
      await call(jar, 'GET', '/count')
      const before = new Map(jar)
      const r = await call(jar, 'GET', '/data')
      expect(r.status).toBe(200)
      expect((r.body.data as Record<string, unknown>).count).toBe(1)
      expect(jar).toEqual(before)
      expect(await sessions.count()).toBe(1)
    })

    it('a visitor that stores nothing gets no row', async () => {
      const { call, sessions } = await open()
      const jar: Jar = new Map()
      for (let i = 0; i < 3; i++) expect((await call(jar, 'GET', '/data')).status).toBe(200)
      expect(await sessions.count()).toBe(0)
    })

    it('two concurrent requests changing different fields both persist', async () => {
      const { call, data } = await open()
      const jar: Jar = new Map()
      await call(jar, 'GET', '/count')
      // Both requests load the same version, then save after one another.
      const [a, b] = await Promise.all([
        call(new Map(jar), 'POST', '/set?name=a&value=first&delay=150'),
        call(new Map(jar), 'POST', '/set?name=b&value=second&delay=300'),
      ])
      expect(a.status).toBe(200)
      expect(b.status).toBe(200)
      const d = await data(jar)
      expect(d.a).toBe('first')
      expect(d.b).toBe('second')
      expect(d.count).toBe(1)
    })

    describe('serialised mode', () => {
      it('16 concurrent requests x 5 rounds on one cookie, each incrementing one counter, lose none', async () => {
        const { call, data } = await open({ serialize: { lease: '5s', wait: '20s' } })
        const jar: Jar = new Map()
        expect((await call(jar, 'GET', '/count')).body.count).toBe(1)
        for (let round = 0; round < 5; round++) {
          const replies = await Promise.all(
            Array.from({ length: 16 }, () => call(new Map(jar), 'GET', '/count')),
          )
          expect(replies.map((r) => r.status)).toEqual(replies.map(() => 200))
        }
        expect((await data(jar)).count).toBe(81)
      })

      it('read-only and failing requests give the lease back: the next request does not wait', async () => {
        const { call, data } = await open({ serialize: { lease: '20s', wait: '20s' } })
        const jar: Jar = new Map()
        await call(jar, 'GET', '/count')
        const started = Date.now()
        for (let i = 0; i < 5; i++) expect((await data(jar)).count).toBe(1)
        expect((await call(jar, 'GET', '/count')).body.count).toBe(2)
        expect(Date.now() - started).toBeLessThan(5_000)
      })

      it('login and logout under the lease: the old cookie is refused, the new one works', async () => {
        const { call, data } = await open({ serialize: { lease: '20s', wait: '20s' } })
        const jar: Jar = new Map()
        await call(jar, 'GET', '/count')
        const old = header(jar)
        expect((await call(jar, 'POST', '/login?user=ann')).status).toBe(200)
        expect((await data(jar)).user).toBe('ann')
        expect((await data(old)).user).toBeUndefined()
        const started = Date.now()
        expect((await call(jar, 'POST', '/logout')).status).toBe(200)
        expect((await data(jar)).user).toBeUndefined()
        expect(Date.now() - started).toBeLessThan(5_000)
      })
    })

    it('login regenerates the id: the old cookie no longer works', async () => {
      const { call, data, sessions } = await open()
      const jar: Jar = new Map()
      await call(jar, 'POST', '/set?name=cart&value=3')
      const before = new Map(jar)
      const r = await call(jar, 'POST', '/login?user=alice')
      expect(r.status).toBe(200)
      expect(header(jar)).not.toBe(header(before))
      expect((await data(jar)).user).toBe('alice')
      const old = await data(new Map(before))
      expect(old.user).toBeUndefined()
      expect(old.cart).toBeUndefined()
      expect(await sessions.count()).toBe(1)
      expect(await sessions.findByRef('alice')).toHaveLength(1)
    })

    it('logout deletes the row and ends the session', async () => {
      const { call, data, sessions } = await open()
      const jar: Jar = new Map()
      await call(jar, 'POST', '/login?user=bob')
      const kept = new Map(jar)
      expect(await sessions.findByRef('bob')).toHaveLength(1)
      expect((await call(jar, 'POST', '/logout')).status).toBe(200)
      expect(await sessions.findByRef('bob')).toHaveLength(0)
      expect(await sessions.count()).toBe(0)
      // Replaying the cookie from before the logout gets nothing back.
      expect((await data(kept)).user).toBeUndefined()
      expect(await sessions.count()).toBe(0)
    })

    it('secret rotation: logout and login end sessions stored under the previous secret', async () => {
      const OLD = 'the-old-server-secret-32-bytes-long!!'
      const NEW = 'the-new-server-secret-32-bytes-long!!'
      const before = await open({ secret: OLD })
      const ann: Jar = new Map()
      const bob: Jar = new Map()
      await before.call(ann, 'POST', '/login?user=ann')
      await before.call(bob, 'POST', '/login?user=bob')
      const annKept = new Map(ann)
      const bobKept = new Map(bob)
      // The next deploy lists a new secret first; the old one stays for reading.
      const after = await open({ secret: [NEW, OLD] }, options.store, before.store)
      expect((await after.data(ann)).user).toBe('ann')
      expect((await after.call(ann, 'POST', '/logout')).status).toBe(200)
      expect((await after.data(annKept)).user).toBeUndefined()
      expect(await after.sessions.findByRef('ann')).toHaveLength(0)
      expect((await after.call(bob, 'POST', '/login?user=bob')).status).toBe(200)
      expect((await after.data(bob)).user).toBe('bob')
      expect((await after.data(bobKept)).user).toBeUndefined()
      expect(await after.sessions.findByRef('bob')).toHaveLength(1)
      expect(await after.sessions.count()).toBe(1)
    })

    it('an unknown cookie gets a fresh session and no row until data is set', async () => {
      const { call, data, sessions } = await open()
      const jar: Jar = new Map()
      await call(jar, 'GET', '/count')
      const names = [...jar.keys()]
      // Forge a cookie of the right shape that the store never issued: end the real session,
      // keep its (signed) cookie.
      const forged = new Map(jar)
      await call(jar, 'POST', '/logout')
      expect(await sessions.count()).toBe(0)
      expect((await data(forged)).count).toBeUndefined()
      expect(await sessions.count()).toBe(0)
      const r = await call(forged, 'GET', '/count')
      expect(r.body.count).toBe(1)
      expect(await sessions.count()).toBe(1)
      expect(names.length).toBeGreaterThan(0)
    })

    it('an expired cookie gets a fresh session and no row until data is set', async () => {
      const { call, data, sessions } = await open({ idleTimeout: '1s', absoluteTimeout: '1h' })
      const jar: Jar = new Map()
      await call(jar, 'GET', '/count')
      expect(await sessions.count()).toBe(1)
      await sleep(1300)
      expect(await sessions.count()).toBe(0)
      expect((await data(new Map(jar))).count).toBeUndefined()
      expect(await sessions.count()).toBe(0)
      expect((await call(jar, 'GET', '/count')).body.count).toBe(1)
      expect(await sessions.count()).toBe(1)
    })

    it('malformed, oversized and duplicate cookies get a fresh session, never a 500', async () => {
      const { call, sessions } = await open()
      const jar: Jar = new Map()
      await call(jar, 'GET', '/count')
      await call(jar, 'GET', '/count')
      const names = [...jar.keys()]
      const bad = [
        '!!not-a-session!!',
        's:',
        '%E0%A4%A',
        '"unterminated',
        'a'.repeat(4096),
        'x'.repeat(43),
        '..%2F..%2Fetc%2Fpasswd',
        '\u00e9\u00e8',
      ]
      for (const value of bad) {
        const cookie = names.map((n) => `${n}=${encodeURIComponent(value).slice(0, 5000)}`).join('; ')
        for (const raw of [cookie, names.map((n) => `${n}=${value}`).join('; ')]) {
          if (/[^\x20-\x7e]/.test(raw)) continue
          const r = await call(raw, 'GET', '/count')
          expect(r.status, `cookie ${raw.slice(0, 40)}`).toBe(200)
          expect(r.body.count).toBe(1)
        }
      }
      const dup = names.map((n) => `${n}=${'b'.repeat(43)}; ${n}=${'c'.repeat(43)}`).join('; ')
      const r = await call(dup, 'GET', '/count')
      expect(r.status).toBe(200)
      expect(r.body.count).toBe(1)
      // The real session was not disturbed by any of it.
      expect((await call(jar, 'GET', '/count')).body.count).toBe(3)
      expect(await sessions.findByRef('nobody')).toHaveLength(0)
    })

    const outage = options.outage
    it.skipIf(!outage)(
      'with the database down a request gets 503, nothing is written, and the cookie works again after recovery',
      async () => {
        if (!outage) return
        const { call, data, sessions } = await open({}, outage.store)
        const jar: Jar = new Map()
        await call(jar, 'GET', '/count')
        expect((await call(jar, 'GET', '/count')).body.count).toBe(2)
        const kept = new Map(jar)
        await outage.cut()
        let restored = false
        try {
          for (const path of ['/count', '/data']) {
            const r = await call(new Map(jar), 'GET', path)
            expect(r.status, `${path} during the outage`).toBe(503)
          }
          const fresh = await call(new Map(), 'POST', '/set?name=a&value=b')
          expect(fresh.status).toBe(503)
          await outage.restore()
          restored = true
        } finally {
          if (!restored) await outage.restore()
        }
        // Nothing from the outage reached the store; the same cookie carries on where it was.
        const d = await data(kept)
        expect(d.count).toBe(2)
        expect((await call(kept, 'GET', '/count')).body.count).toBe(3)
        expect(await sessions.count()).toBe(1)
      },
    )
  })
}
