import {
  createSessions,
  isSessionError,
  MemoryStore,
  type ReadResult,
  type WriteRequest,
} from '@sessile/core'
import { Hono } from 'hono'
import { describe, expect, it, vi } from 'vitest'
import { type HonoSessionOptions, honoSession, type SessionEnv } from '../src/index.js'

/** A MemoryStore whose backend can be switched off, to see what the middleware does then. */
class SwitchableStore extends MemoryStore {
  down = false
  override async read(key: string): Promise<ReadResult | null> {
    if (this.down) throw new Error('connect ECONNREFUSED 127.0.0.1:5432')
    return super.read(key)
  }
  override async write(req: WriteRequest) {
    if (this.down) throw new Error('connect ECONNREFUSED 127.0.0.1:5432')
    return super.write(req)
  }
}

function setup(options?: HonoSessionOptions, maxSize?: number) {
  const store = new SwitchableStore()
  const sessions = createSessions({ store, ...(maxSize ? { maxSize } : {}) })
  const app = new Hono<SessionEnv>()
  app.use(honoSession(sessions, options))
  app.get('/set', (c) => {
    c.get('session').set('n', c.req.query('v') ?? '1')
    return c.text('ok')
  })
  app.get('/read', (c) => c.text(String(c.get('session').get('n') ?? '')))
  app.get('/unset', (c) => {
    c.get('session').delete('n')
    return c.text('ok')
  })
  app.get('/destroy', (c) => {
    c.get('session').destroy()
    return c.text('ok')
  })
  app.get('/fail', (c) => {
    c.get('session').set('n', 'failed')
    return c.text('oops', 500)
  })
  app.get('/logout-fail', (c) => {
    c.get('session').destroy()
    return c.text('oops', 500)
  })
  app.get('/logout-throw', (c) => {
    c.get('session').destroy()
    throw new Error('handler bug after logout')
  })
  app.get('/throw', (c) => {
    c.get('session').set('n', 'thrown')
    throw new Error('handler bug')
  })
  app.get('/big', (c) => {
    c.get('session').set('n', 'x'.repeat(5000))
    return c.text('ok')
  })
  app.onError((_e, c) => c.text('handler failed', 500))
  return { app, store, sessions }
}

const cookieOf = (res: Response) => res.headers.getSetCookie()
const pair = (line: string) => line.split(';')[0] as string

describe('honoSession cookie attributes', () => {
  it('plain HTTP on localhost or 127.0.0.1: sid, HttpOnly, SameSite=Lax, Path=/, no Secure', async () => {
    const { app } = setup()
    for (const host of ['localhost', '127.0.0.1']) {
      const [line] = cookieOf(await app.request(`http://${host}/set`))
      expect(line).toMatch(/^sid=[A-Za-z0-9_-]{43};/)
      expect(line).toContain('HttpOnly')
      expect(line).toContain('SameSite=Lax')
      expect(line).toContain('Path=/')
      expect(line).not.toContain('Secure')
      expect(line).not.toMatch(/Expires|Max-Age/)
    }
  })

  it('HTTPS: __Host-sid with Secure', async () => {
    const { app } = setup()
    for (const url of ['https://example.com/set', 'https://localhost/set']) {
      const [line] = cookieOf(await app.request(url))
      expect(line).toMatch(/^__Host-sid=[A-Za-z0-9_-]{43};/)
      expect(line).toContain('Secure')
      expect(line).not.toContain('Domain')
    }
  })

  it('plain HTTP on a LAN host name works: no Secure, so the browser keeps the cookie', async () => {
    const { app } = setup()
    const [line] = cookieOf(await app.request('http://nas.local:3000/set?v=5'))
    expect(line).toMatch(/^sid=[A-Za-z0-9_-]{43};/)
    expect(line).not.toContain('Secure')
    const again = await app.request('http://nas.local:3000/read', {
      headers: { cookie: pair(line as string) },
    })
    expect(await again.text()).toBe('5')
  })

  it('behind a TLS proxy on 127.0.0.1 with trustProxy: X-Forwarded-Proto decides, never the Host header', async () => {
    const { app } = setup({ trustProxy: true })
    const viaProxy = { headers: { 'x-forwarded-proto': 'https', host: '127.0.0.1:3000' } }
    const [line] = cookieOf(await app.request('http://127.0.0.1:3000/set', viaProxy))
    expect(line).toMatch(/^__Host-sid=/)
    expect(line).toContain('Secure')
    const plain = { headers: { 'x-forwarded-proto': 'http', host: 'example.com' } }
    expect(cookieOf(await app.request('http://example.com/set', plain))[0]).not.toContain('Secure')
  })

  it('without trustProxy a forwarded https is not trusted, and a warning says what to set', async () => {
    const { app } = setup()
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {})
    try {
      const headers = { 'x-forwarded-proto': 'https' }
      for (let i = 0; i < 2; i++) {
        const [line] = cookieOf(await app.request('http://127.0.0.1:3000/set', { headers }))
        expect(line).not.toContain('Secure')
      }
      expect(warn).toHaveBeenCalledTimes(1)
      expect(String(warn.mock.calls[0]?.[0])).toMatch(/trustProxy: true/)
    } finally {
      warn.mockRestore()
    }
  })

  it('a domain or a sub-path falls back to the __Secure- prefix', async () => {
    for (const options of [{ domain: 'example.com' }, { path: '/app' }]) {
      const { app } = setup(options)
      const [line] = cookieOf(await app.request('https://example.com/set'))
      expect(line).toMatch(/^__Secure-sid=/)
    }
  })

  it('the secure cookie is read back under its prefixed name only', async () => {
    const { app } = setup()
    const first = await app.request('https://example.com/set?v=7')
    const cookie = pair(cookieOf(first)[0] as string)
    const again = await app.request('https://example.com/read', { headers: { cookie } })
    expect(await again.text()).toBe('7')
    const unprefixed = cookie.replace('__Host-sid', 'sid')
    const wrong = await app.request('https://example.com/read', { headers: { cookie: unprefixed } })
    expect(await wrong.text()).toBe('')
  })

  it('persistent cookies carry the row expiry', async () => {
    const { app } = setup({ persistent: true })
    const [line] = cookieOf(await app.request('http://localhost/set'))
    const expires = Date.parse(/Expires=([^;]+)/.exec(line as string)?.[1] ?? '')
    expect(expires - Date.now()).toBeGreaterThan(29 * 60_000)
    expect(expires - Date.now()).toBeLessThanOrEqual(30 * 60_000 + 1000)
  })
  it('persistent cookies are sent again only when the row expiry moved', async () => {
    let now = Date.now()
    const store = new MemoryStore({ clock: () => now })
    const sessions = createSessions({ store })
    const app = new Hono<SessionEnv>()
    app.use(honoSession(sessions, { persistent: true }))
    app.get('/set', (c) => {
      c.get('session').set('n', c.req.query('v') ?? '1')
      return c.text('ok')
    })
    app.get('/read', (c) => c.text(String(c.get('session').get('n') ?? '')))
    const expiresOf = (res: Response) => Date.parse(/Expires=([^;]+)/.exec(cookieOf(res)[0] ?? '')?.[1] ?? '')
    const first = await app.request('http://localhost/set')
    const cookie = pair(cookieOf(first)[0] as string)
    const e1 = expiresOf(first)
    expect(e1).toBeGreaterThan(now)

    // A change a minute later keeps the row's expiry (it would move by less than touchShare of
    // the ttl): the data is written, the cookie is not sent again.
    now += 60_000
    const kept = await app.request('http://localhost/set?v=2', { headers: { cookie } })
    expect(cookieOf(kept)).toEqual([])
    const read = await app.request('http://localhost/read', { headers: { cookie } })
    expect(await read.text()).toBe('2')

    // Ten minutes on, the change moves the expiry, and the cookie follows it.
    now += 10 * 60_000
    const moved = await app.request('http://localhost/set?v=3', { headers: { cookie } })
    const e2 = expiresOf(moved)
    expect(e2 - e1).toBeGreaterThanOrEqual(11 * 60_000 - 1000)
    expect(e2 - e1).toBeLessThanOrEqual(11 * 60_000 + 1000)
  })
})

describe('honoSession saving', () => {
  it('a read-only request sends no cookie and writes nothing', async () => {
    const { app, sessions } = setup()
    const cookie = pair(cookieOf(await app.request('http://localhost/set'))[0] as string)
    const res = await app.request('http://localhost/read', { headers: { cookie } })
    expect(await res.text()).toBe('1')
    expect(cookieOf(res)).toEqual([])
    expect(await sessions.count()).toBe(1)
  })

  it('destroy and emptying both delete the row and clear the cookie', async () => {
    for (const path of ['/destroy', '/unset']) {
      const { app, sessions } = setup()
      const cookie = pair(cookieOf(await app.request('http://localhost/set'))[0] as string)
      const res = await app.request(`http://localhost${path}`, { headers: { cookie } })
      const [line] = cookieOf(res)
      expect(line).toMatch(/^sid=;/)
      expect(line).toContain('Max-Age=0')
      expect(await sessions.count()).toBe(0)
    }
  })

  it('changes made during a 5xx response or a thrown handler are not saved', async () => {
    const { app, sessions } = setup()
    const cookie = pair(cookieOf(await app.request('http://localhost/set?v=before'))[0] as string)
    for (const path of ['/fail', '/throw']) {
      const res = await app.request(`http://localhost${path}`, { headers: { cookie } })
      expect(res.status).toBe(500)
      expect(cookieOf(res)).toEqual([])
    }
    const res = await app.request('http://localhost/read', { headers: { cookie } })
    expect(await res.text()).toBe('before')
    // A new visitor whose first request fails leaves no row.
    expect((await app.request('http://localhost/fail')).status).toBe(500)
    expect(await sessions.count()).toBe(1)
  })

  it('a logout is saved even when the response is a 5xx or the handler throws', async () => {
    for (const path of ['/logout-fail', '/logout-throw']) {
      const { app, sessions } = setup()
      const cookie = pair(cookieOf(await app.request('http://localhost/set?v=in'))[0] as string)
      expect(await sessions.count()).toBe(1)
      const res = await app.request(`http://localhost${path}`, { headers: { cookie } })
      expect(res.status).toBe(500)
      expect(await sessions.count()).toBe(0)
      const again = await app.request('http://localhost/read', { headers: { cookie } })
      expect(await again.text()).toBe('')
    }
  })

  it('saveOnError: true saves them', async () => {
    const { app } = setup({ saveOnError: true })
    const cookie = pair(cookieOf(await app.request('http://localhost/set'))[0] as string)
    await app.request('http://localhost/fail', { headers: { cookie } })
    const res = await app.request('http://localhost/read', { headers: { cookie } })
    expect(await res.text()).toBe('failed')
  })

  it('data over maxSize gives 413 and nothing is written', async () => {
    const { app, sessions } = setup({}, 1024)
    const res = await app.request('http://localhost/big')
    expect(res.status).toBe(413)
    expect(await res.text()).toContain('maxSize')
    expect(cookieOf(res)).toEqual([])
    expect(await sessions.count()).toBe(0)
  })
})

describe('honoSession store failures', () => {
  it('a store outage gives a clear 503; the cookie works again after recovery', async () => {
    const { app, store } = setup()
    const cookie = pair(cookieOf(await app.request('http://localhost/set?v=kept'))[0] as string)
    store.down = true
    const res = await app.request('http://localhost/set?v=lost', { headers: { cookie } })
    expect(res.status).toBe(503)
    expect(await res.text()).toMatch(/session store cannot be reached/)
    expect(cookieOf(res)).toEqual([])
    store.down = false
    const back = await app.request('http://localhost/read', { headers: { cookie } })
    expect(await back.text()).toBe('kept')
  })

  it('onError decides the response', async () => {
    const seen: string[] = []
    const { app, store } = setup({
      onError: (e, c) => {
        seen.push(e.code)
        return c.json({ error: e.code }, 503)
      },
    })
    store.down = true
    const res = await app.request('http://localhost/set')
    expect(res.status).toBe(503)
    expect(await res.json()).toEqual({ error: 'E_STORE' })
    expect(seen).toEqual(['E_STORE'])
  })
})

describe('honoSession options', () => {
  const sessions = createSessions({ store: new MemoryStore() })
  const bad: [string, unknown][] = [
    ['cookieName', { cookieName: 'has space' }],
    ['cookieName', { cookieName: '' }],
    ['secure', { secure: 'yes' }],
    ['sameSite', { sameSite: 'lax' }],
    ['path', { path: 'app' }],
    ['domain', { domain: 'a.com; evil' }],
    ['onError', { onError: 'nope' }],
    ['sameSite', { sameSite: 'None', secure: false }],
  ]
  it.each(bad)('a wrong %s is E_OPTION at construction', (name, options) => {
    try {
      honoSession(sessions, options as HonoSessionOptions)
      expect.unreachable()
    } catch (e) {
      expect(isSessionError(e) && e.code).toBe('E_OPTION')
      expect((e as Error).message).toContain(name)
    }
  })

  it('a missing manager is E_OPTION', () => {
    expect(() => honoSession(undefined as never)).toThrow(/createSessions/)
  })
})
