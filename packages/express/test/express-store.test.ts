import type { AddressInfo } from 'node:net'
import {
  createSessions,
  isSessionError,
  MemoryStore,
  type ReadResult,
  type Sessions,
  type TouchRequest,
  type WriteRequest,
} from '@sessile/core'
import express from 'express'
import session from 'express-session'
import { afterEach, describe, expect, it } from 'vitest'
import { expressStore, type SessileExpressStore } from '../src/index.js'
import { contractApp, listen } from '../src/testing.js'
import { autoSaveApp } from './app.js'

/** A MemoryStore that counts what reaches it and can be switched off. */
class CountingStore extends MemoryStore {
  reads = 0
  writes = 0
  touches = 0
  down = false
  override async read(key: string): Promise<ReadResult | null> {
    if (this.down) throw new Error('connect ECONNREFUSED')
    this.reads++
    return super.read(key)
  }
  log: string[] = []
  override async write(req: WriteRequest) {
    if (this.down) throw new Error('connect ECONNREFUSED')
    this.writes++
    const r = await super.write(req)
    this.log.push(
      `${req.mode} ${req.key.slice(0, 6)} ${Buffer.from(req.data).toString().slice(0, 120)} -> ${JSON.stringify(r)}`,
    )
    return r
  }
  override async touch(req: TouchRequest) {
    this.touches++
    return super.touch(req)
  }
}

const closers: (() => Promise<void>)[] = []
afterEach(async () => {
  while (closers.length) await closers.pop()?.()
})

async function serve(app: express.Express) {
  const a = await listen(app)
  closers.push(a.close)
  let cookie = ''
  return async (path: string, method = 'GET', jar?: string) => {
    const res = await fetch(a.url + path, { method, headers: { cookie: jar ?? cookie } })
    const set = res.headers.getSetCookie()[0]
    if (set && jar === undefined) cookie = set.split(';')[0] as string
    return { status: res.status, body: (await res.json()) as Record<string, unknown>, set, cookie }
  }
}

const cb = <R>(fn: (done: (err: unknown, r?: R) => void) => void) =>
  new Promise<R | undefined>((resolve, reject) => fn((err, r) => (err ? reject(err) : resolve(r))))

describe('expressStore with express-session', () => {
  it('read-only requests write nothing, although express-session moves cookie.expires every time', async () => {
    const store = new CountingStore()
    const call = await serve(contractApp(createSessions({ store })).app)
    await call('/count')
    await call('/count')
    expect(store.writes).toBe(2)
    for (let i = 0; i < 10; i++) expect((await call('/data')).status).toBe(200)
    expect(store.writes).toBe(2)
    // The touch throttle (10% of 30 minutes) holds back every touch of a fresh session.
    expect(store.touches).toBe(0)
  })

  it('touches once the throttle allows it', async () => {
    const store = new CountingStore()
    const sessions = createSessions({ store, touchShare: 0 })
    const call = await serve(contractApp(sessions).app)
    await call('/count')
    await new Promise((r) => setTimeout(r, 20))
    await call('/data')
    expect(store.touches).toBe(1)
    expect(store.writes).toBe(1)
  })

  it('issues ids in the manager shape through genid', async () => {
    const call = await serve(contractApp(createSessions({ store: new MemoryStore() })).app)
    const r = await call('/count')
    expect(decodeURIComponent(r.cookie)).toMatch(/^connect\.sid=s:[A-Za-z0-9_-]{43}\./)
  })

  it("works with express-session's own 24-byte ids when the manager has idBytes: 24", async () => {
    const sessions = createSessions({ store: new MemoryStore(), idBytes: 24 })
    const app = autoSaveApp({
      store: expressStore(sessions),
      secret: 'x'.repeat(32),
      resave: false,
      saveUninitialized: false,
    })
    const call = await serve(app)
    await call('/count')
    expect((await call('/count')).body.count).toBe(2)
    expect(await sessions.count()).toBe(1)
  })

  it('refuses ids of no accepted shape with a clear E_INVALID instead of storing them', async () => {
    const sessions = createSessions({ store: new MemoryStore() })
    const store = expressStore(sessions)
    for (const sid of ['a'.repeat(20), 'a.b'.repeat(11), `${'a'.repeat(31)}=`]) {
      const err = await cb((done) => store.set(sid, { cookie: {}, user: 'x' } as never, done)).catch(
        (e: unknown) => e,
      )
      expect(isSessionError(err) && err.code).toBe('E_INVALID')
      expect(String(err)).toMatch(/genid/)
    }
    expect(await sessions.count()).toBe(0)
  })

  it("works with express-session's own 24-byte ids and no extra option (a one-line store swap)", async () => {
    const sessions = createSessions({ store: new MemoryStore() })
    const app = express()
    app.use(
      session({
        store: expressStore(sessions),
        secret: 'x'.repeat(32),
        resave: false,
        saveUninitialized: false,
      }),
    )
    app.get('/count', (req, res) => {
      const s = req.session as unknown as { n?: number }
      s.n = (s.n ?? 0) + 1
      res.json({ n: s.n, id: req.sessionID })
    })
    const call = await serve(app)
    const first = (await call('/count')).body as { n: number; id: string }
    const second = (await call('/count')).body as { n: number; id: string }
    expect(first.id).toMatch(/^[A-Za-z0-9_-]{32}$/)
    expect([first.n, second.n]).toEqual([1, 2])
    expect(second.id).toBe(first.id)
    expect(await sessions.count()).toBe(1)
  })

  it('saveUninitialized: true still stores no empty session', async () => {
    const sessions = createSessions({ store: new MemoryStore() })
    const store = expressStore(sessions)
    const app = express()
    app.use(
      session({ store, genid: store.genid, secret: 'x'.repeat(32), resave: true, saveUninitialized: true }),
    )
    app.get('/data', (_req, res) => res.json({}))
    const call = await serve(app)
    for (let i = 0; i < 3; i++) await call('/data')
    expect(await sessions.count()).toBe(0)
  })

  it('emptying the session deletes its row', async () => {
    const sessions = createSessions({ store: new MemoryStore() })
    const { app } = contractApp(sessions)
    app.post('/empty', (req, res) => {
      delete req.session.count
      res.json({})
    })
    const call = await serve(app)
    await call('/count')
    expect(await sessions.count()).toBe(1)
    await call('/empty', 'POST')
    expect(await sessions.count()).toBe(0)
  })

  it('a store outage ends the request with 503 and writes nothing', async () => {
    const store = new CountingStore()
    const call = await serve(contractApp(createSessions({ store })).app)
    await call('/count')
    store.down = true
    const r = await call('/count')
    expect(r.status).toBe(503)
    expect(String(r.body.error)).toMatch(/E_STORE|read failed/)
    store.down = false
    expect((await call('/count')).body.count).toBe(2)
  })

  it('regenerate that copies the old fields (marker included) onto the new session saves them', async () => {
    const sessions = createSessions({ store: new MemoryStore(), ref: (d) => (d.user as string) ?? null })
    const { app } = contractApp(sessions)
    app.post('/login-keep', (req, res, next) => {
      const old = { ...req.session }
      req.session.regenerate((err) => {
        if (err) return next(err)
        Object.assign(req.session, old, { user: 'kim' })
        res.json({})
      })
    })
    const call = await serve(app)
    await call('/count')
    await call('/login-keep', 'POST')
    expect((await call('/data')).body.data).toMatchObject({ count: 1, user: 'kim' })
    expect(await sessions.count()).toBe(1)
    expect(await sessions.findByRef('kim')).toHaveLength(1)
  })

  it('login (regenerate, then save) costs one insert: the end-of-response save finds the new row', async () => {
    const store = new CountingStore()
    const sessions = createSessions({ store, ref: (d) => (d.user as string) ?? null })
    const call = await serve(contractApp(sessions).app)
    await call('/count')
    expect(store.writes).toBe(1)
    expect((await call('/login?user=ann', 'POST')).status).toBe(200)
    // express-session saves a regenerated session again at res.end; give that save time to land.
    await new Promise((resolve) => setTimeout(resolve, 100))
    expect(store.writes, store.log.join('\n')).toBe(2)
    expect(await sessions.count()).toBe(1)
    expect((await call('/data')).body.data).toMatchObject({ user: 'ann' })
  })

  it('an explicit save, then the touch express-session ends the request with, reads the row once', async () => {
    const store = new CountingStore()
    const sessions = createSessions({ store })
    const call = await serve(contractApp(sessions).app)
    await call('/count')
    const before = { reads: store.reads, writes: store.writes }
    // /count saves before replying; express-session then calls touch at res.end.
    expect((await call('/count')).body).toEqual({ count: 2 })
    await new Promise((resolve) => setTimeout(resolve, 50))
    expect(store.reads - before.reads).toBe(1)
    expect(store.writes - before.writes).toBe(1)
  })

  it('req.session carries nothing but the app fields and the cookie, and nothing else is stored', async () => {
    const sessions = createSessions({ store: new MemoryStore() })
    const { app } = contractApp(sessions)
    app.get('/json', (req, res, next) => {
      const own = Object.keys(req.session)
      const json = JSON.stringify(req.session)
      req.session.seen = true
      req.session.save((err) => (err ? next(err) : res.json({ own, json })))
    })
    const call = await serve(app)
    await call('/count')
    const r = await call('/json')
    expect((r.body.own as string[]).sort()).toEqual(['cookie', 'count'])
    expect(JSON.parse(String(r.body.json))).toMatchObject({ count: 1 })
    const id = decodeURIComponent(r.cookie).split('s:')[1]!.split('.')[0]!
    const row = await sessions.load(id)
    expect(row.data).toMatchObject({ count: 1, seen: true })
    expect(Object.keys(row.data).sort()).toEqual(['cookie', 'count', 'seen'])
  })

  it('app data copied over req.session cannot make a save insert a session destroyed meanwhile', async () => {
    const sessions = createSessions({ store: new MemoryStore() })
    const { app } = contractApp(sessions)
    app.post('/assign', (req, res, next) => {
      // Logged out on another device while this request runs, then the app copies a body that
      // holds the field name the handle once used.
      sessions.destroy(req.sessionID).then(() => {
        Object.assign(req.session, { __sessile: 'forged', note: 'hi' })
        res.json({})
      }, next)
    })
    const call = await serve(app)
    await call('/count')
    expect(await sessions.count()).toBe(1)
    await call('/assign', 'POST')
    await new Promise((resolve) => setTimeout(resolve, 50))
    expect(await sessions.count()).toBe(0)
  })

  it('a session saved twice in one request (explicit save, then res.end) is updated, not inserted twice', async () => {
    const store = new CountingStore()
    const sessions = createSessions({ store })
    const app = express()
    const s = expressStore(sessions)
    app.use(
      session({ store: s, genid: s.genid, secret: 'x'.repeat(32), resave: false, saveUninitialized: false }),
    )
    app.get('/twice', (req, res, next) => {
      req.session.a = 1
      req.session.save((err) => {
        if (err) return next(err)
        // Changed after the explicit save: express-session saves again at res.end.
        req.session.b = 2
        res.json({})
      })
    })
    const call = await serve(app)
    const r = await call('/twice')
    await new Promise((resolve) => setTimeout(resolve, 50))
    expect(await sessions.count()).toBe(1)
    const id = decodeURIComponent(r.cookie).split('s:')[1]!.split('.')[0]!
    expect((await sessions.load(id)).data).toMatchObject({ a: 1, b: 2 })
    expect(store.writes).toBe(2)
  })
})

describe('expressStore store API', () => {
  let sessions: Sessions
  let store: SessileExpressStore
  const fresh = () => {
    sessions = createSessions({ store: new MemoryStore() })
    store = expressStore(sessions)
  }

  it('set, get, length, all, destroy and clear through callbacks', async () => {
    fresh()
    const a = store.genid()
    const b = store.genid()
    await cb((d) => store.set(a, { cookie: { originalMaxAge: null }, user: 'ann' } as never, d))
    await cb((d) => store.set(b, { cookie: {}, user: 'ben' } as never, d))
    expect(await cb<number>((d) => store.length(d))).toBe(2)
    const got = (await cb<Record<string, unknown> | null>((d) => store.get(a, d))) as Record<string, unknown>
    expect(got.user).toBe('ann')
    expect(Object.keys(got).sort()).toEqual(['cookie', 'user'])
    expect(got.cookie).toMatchObject({ originalMaxAge: null, expires: null })
    const all = (await cb<Record<string, Record<string, unknown>>>((d) => store.all(d))) ?? {}
    expect(
      Object.values(all)
        .map((s) => s.user)
        .sort(),
    ).toEqual(['ann', 'ben'])
    expect(Object.values(all).every((s) => Object.keys(s).sort().join() === 'cookie,user')).toBe(true)
    await cb((d) => store.destroy(a, d))
    expect(await cb((d) => store.get(a, d))).toBeNull()
    await cb((d) => store.clear(d))
    expect(await cb<number>((d) => store.length(d))).toBe(0)
  })

  it('get of a malformed, unknown or destroyed id is null, never an error', async () => {
    fresh()
    for (const id of ['', 'short', '../../x', 'a'.repeat(5000), store.genid()]) {
      expect(await cb((d) => store.get(id, d))).toBeNull()
    }
  })

  it('a set whose row was deleted meanwhile does not bring it back', async () => {
    fresh()
    const id = store.genid()
    await cb((d) => store.set(id, { cookie: {}, user: 'ann' } as never, d))
    const loaded = (await cb<Record<string, unknown> | null>((d) => store.get(id, d))) as Record<
      string,
      unknown
    >
    await sessions.destroy(id)
    // The object `get` returned (as express-session's req.session is) still knows it was loaded.
    loaded.user = 'changed'
    await cb((d) => store.set(id, loaded as never, d))
    expect(await sessions.count()).toBe(0)
  })

  it('a direct set on a stored id (no loaded handle) replaces its data: an upsert, as express-session documents', async () => {
    fresh()
    const refs = createSessions({ store: new MemoryStore(), ref: (d) => (d.user as string) ?? null })
    const admin = expressStore(refs)
    // express-session's own id shape (24 random bytes), as a swapped-in app has them.
    const id = 'AbCdEfGhIjKlMnOpQrStUvWxYz012345'
    await cb((d) => admin.set(id, { cookie: {}, user: 'ann', cart: 3 } as never, d))
    await cb((d) => admin.set(id, { cookie: {}, user: 'bob' } as never, d))
    const got = (await cb<Record<string, unknown> | null>((d) => admin.get(id, d))) as Record<string, unknown>
    expect(got.user).toBe('bob')
    expect(got.cart).toBeUndefined()
    expect(await refs.count()).toBe(1)
    expect(await refs.findByRef('ann')).toHaveLength(0)
    expect(await refs.findByRef('bob')).toHaveLength(1)
    // A direct set after a destroy stores the session again: that is what set means when no
    // request holds it; a request that loaded it carries the handle (previous test).
    await cb((d) => admin.destroy(id, d))
    await cb((d) => admin.set(id, { cookie: {}, user: 'cy' } as never, d))
    expect(await refs.findByRef('cy')).toHaveLength(1)
  })

  it('cookie.maxAge becomes the row lifetime', async () => {
    fresh()
    const id = store.genid()
    await cb((d) => store.set(id, { cookie: { originalMaxAge: 120_000 }, n: 1 } as never, d))
    const s = await sessions.load(id)
    const left = (s.expires?.getTime() ?? 0) - Date.now()
    expect(left).toBeGreaterThan(100_000)
    expect(left).toBeLessThanOrEqual(121_000)
  })

  it('wrong options are E_OPTION', () => {
    const m = createSessions({ store: new MemoryStore() })
    expect(() => expressStore(undefined as never)).toThrow(/createSessions/)
    expect(() => expressStore({ ...m, load: 1 } as never)).toThrow(/createSessions/)
  })
})

export type { AddressInfo }
