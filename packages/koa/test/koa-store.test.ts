import { setTimeout as sleep } from 'node:timers/promises'
import {
  createSessions,
  isSessionError,
  MemoryStore,
  type ReadResult,
  type SessionsOptions,
  type TouchRequest,
  type WriteRequest,
} from '@sessile/core'
import Koa from 'koa'
import session from 'koa-session'
import { afterEach, describe, expect, it } from 'vitest'
import { koaStore } from '../src/index.js'
import { contractApp, listen } from './app.js'

/** A MemoryStore that counts what reaches it and can be switched off. */
class CountingStore extends MemoryStore {
  writes = 0
  touches = 0
  down = false
  override async read(key: string): Promise<ReadResult | null> {
    if (this.down) throw new Error('connect ECONNREFUSED')
    return super.read(key)
  }
  override async write(req: WriteRequest) {
    this.writes++
    return super.write(req)
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

async function serve(app: Koa) {
  const a = await listen(app)
  closers.push(a.close)
  const jar = new Map<string, string>()
  return async (path: string, method = 'GET') => {
    const cookie = [...jar].map(([k, v]) => `${k}=${v}`).join('; ')
    const res = await fetch(a.url + path, { method, headers: { cookie } })
    const set = res.headers.getSetCookie()
    for (const line of set) {
      const [k = '', v = ''] = (line.split(';')[0] as string).split('=')
      if (v === '') jar.delete(k)
      else jar.set(k, v)
    }
    const text = await res.text()
    return { status: res.status, text, set, key: jar.get('koa.sess') }
  }
}

function setup(options: Partial<SessionsOptions> = {}, koa: { rolling?: boolean; renew?: boolean } = {}) {
  const store = new CountingStore()
  const sessions = createSessions({ store, ...options })
  return { store, sessions, app: contractApp(sessions, koa).app }
}

describe('koaStore with koa-session', () => {
  it('read-only requests write nothing and send no cookie', async () => {
    const { store, app } = setup()
    const call = await serve(app)
    await call('/count')
    for (let i = 0; i < 5; i++) {
      const r = await call('/data')
      expect(r.set).toEqual([])
    }
    expect(store.writes).toBe(1)
    expect(store.touches).toBe(0)
  })

  it('keys come from genid in the manager shape; _expire is derived, never stored', async () => {
    const { app, sessions } = setup()
    const call = await serve(app)
    const { key } = await call('/count')
    expect(key).toMatch(/^[A-Za-z0-9_-]{43}$/)
    const s = await sessions.load(key as string)
    expect(s.data).toEqual({ count: 1, _maxAge: sessions.options.idle })
    expect(s.data).not.toHaveProperty('_expire')
  })

  it('rolling re-sends the cookie every time but moves the row only when the throttle allows', async () => {
    const { app, store } = setup({}, { rolling: true })
    const call = await serve(app)
    await call('/count')
    for (let i = 0; i < 3; i++) expect((await call('/data')).set.length).toBeGreaterThan(0)
    expect(store.writes).toBe(1)
    expect(store.touches).toBe(0)

    const other = setup({ touchShare: 0 }, { rolling: true })
    const call2 = await serve(other.app)
    await call2('/count')
    await sleep(10)
    await call2('/data')
    expect(other.store.touches).toBe(1)
  })

  it('renew moves the expiry once less than half of maxAge is left', async () => {
    const { app, store, sessions } = setup({ idleTimeout: '3s' }, { renew: true })
    const call = await serve(app)
    const { key } = await call('/count')
    const before = (await sessions.load(key as string)).expires?.getTime() ?? 0
    await call('/data')
    expect(store.touches).toBe(0)
    await sleep(1700)
    await call('/data')
    expect(store.touches).toBe(1)
    const after = (await sessions.load(key as string)).expires?.getTime() ?? 0
    expect(after - before).toBeGreaterThan(1500)
  })

  it("works with koa-session's own UUID keys and no extra option (a one-line store swap)", async () => {
    const sessions = createSessions({ store: new MemoryStore() })
    const app = new Koa()
    app.keys = ['k'.repeat(32)]
    app.silent = true
    app.use(session({ store: koaStore(sessions) }, app))
    app.use((ctx) => {
      const s = ctx.session as unknown as Record<string, number>
      s.n = (s.n ?? 0) + 1
      ctx.body = String(s.n)
    })
    const call = await serve(app)
    expect((await call('/')).text).toBe('1')
    const r = await call('/')
    expect(r.status).toBe(200)
    expect(r.text).toBe('2')
    expect(r.key).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/)
    expect(await sessions.count()).toBe(1)
  })

  it('keys of no accepted shape are refused with a clear error and nothing is stored', async () => {
    const sessions = createSessions({ store: new MemoryStore() })
    const app = new Koa()
    app.keys = ['k'.repeat(32)]
    app.silent = true
    let n = 0
    app.use(session({ store: koaStore(sessions), genid: () => `short-${n++}` }, app))
    app.use((ctx) => {
      ;(ctx.session as unknown as Record<string, unknown>).n = 1
      ctx.body = 'ok'
    })
    const call = await serve(app)
    const r = await call('/')
    expect(r.status).toBe(400)
    expect(await sessions.count()).toBe(0)
  })

  it('a store outage ends the request with 503', async () => {
    const { app, store } = setup()
    const call = await serve(app)
    await call('/count')
    store.down = true
    expect((await call('/count')).status).toBe(503)
    store.down = false
    expect((await call('/count')).text).toBe('{"count":2}')
  })

  it("maxAge: 'session' uses the manager's idle timeout for the row", async () => {
    const sessions = createSessions({ store: new MemoryStore(), idleTimeout: '5m' })
    const store = koaStore(sessions)
    const app = new Koa()
    app.keys = ['k'.repeat(32)]
    app.use(session({ store, genid: store.genid, maxAge: 'session' }, app))
    app.use((ctx) => {
      ;(ctx.session as unknown as Record<string, unknown>).n = 1
      ctx.body = 'ok'
    })
    const call = await serve(app)
    const { key } = await call('/')
    const left = ((await sessions.load(key as string)).expires?.getTime() ?? 0) - Date.now()
    expect(left).toBeGreaterThan(4.5 * 60_000)
    expect(left).toBeLessThanOrEqual(5 * 60_000 + 1000)
  })
})

describe('koaStore API', () => {
  it('get of malformed, unknown or destroyed keys is null', async () => {
    const sessions = createSessions({ store: new MemoryStore() })
    const store = koaStore(sessions)
    const key = store.genid()
    await store.set(key, { user: 'ann', _maxAge: 60_000, _expire: Date.now() + 60_000 }, 70_000)
    expect(await store.get(key, 60_000)).toMatchObject({ user: 'ann' })
    await store.destroy(key)
    for (const k of [key, '', 'x', 'a'.repeat(4000), store.genid()])
      expect(await store.get(k, 1000)).toBeNull()
  })

  it('set with only koa-session bookkeeping stores nothing', async () => {
    const sessions = createSessions({ store: new MemoryStore() })
    const store = koaStore(sessions)
    await store.set(store.genid(), { _maxAge: 1000, _expire: Date.now() + 1000 }, 11_000)
    expect(await sessions.count()).toBe(0)
  })

  it('a missing manager is E_OPTION', () => {
    try {
      koaStore(undefined as never)
      expect.unreachable()
    } catch (e) {
      expect(isSessionError(e) && e.code).toBe('E_OPTION')
    }
  })
})
