/**
 * The app the reliability tests drive over real HTTP: Express 5 + express-session on the Sessile
 * express store, with the routes a session-heavy app has. Every reply names the session's `user`
 * and `count`, so a test can tell a wrong or empty session from the right one.
 *
 * Routes:
 * - `GET /count`: count += 1, reply `{ count, user }`.
 * - `GET /data`: change nothing, reply `{ data }`.
 * - `POST /set?name=N&value=V&delay=MS`: wait `delay` ms after the load, set field N, reply.
 * - `POST /login?user=U&delay=MS`: regenerate the id, set `user`.
 * - `POST /logout`: destroy the session.
 * - `GET /hang`: load the session and never answer (a request that dies holding it).
 * A SessionError ends the request with its status (503 when the store is down, 503 E_BUSY).
 */
import { setTimeout as sleep } from 'node:timers/promises'
import { isSessionError, type Sessions } from '@sessile/core'
import { serveLoopback } from '@sessile/core/testing'
import { expressStore } from '@sessile/express'
import express, { type NextFunction, type Request, type Response } from 'express'
import session from 'express-session'

declare module 'express-session' {
  interface SessionData {
    count?: number
    user?: string
    [field: string]: unknown
  }
}

export interface RunningApp {
  url: string
  close(): Promise<void>
}

// Save before replying, so a failed save becomes an error response instead of a lost write.
function reply(req: Request, res: Response, next: NextFunction, body: unknown): void {
  req.session.save((err) => (err ? next(err) : res.json(body)))
}

export function reliabilityApp(sessions: Sessions): express.Express {
  const store = expressStore(sessions)
  const app = express()
  app.use(
    session({
      store,
      genid: store.genid,
      secret: 'a reliability test secret, long enough to sign cookies',
      resave: false,
      saveUninitialized: false,
      cookie: { maxAge: sessions.options.idle },
    }),
  )
  app.get('/count', (req, res, next) => {
    req.session.count = (req.session.count ?? 0) + 1
    reply(req, res, next, { count: req.session.count, user: req.session.user ?? null })
  })
  app.get('/data', (req, res) => {
    const { cookie: _cookie, ...data } = req.session
    res.json({ data })
  })
  app.post('/set', async (req, res, next) => {
    await sleep(Number(req.query.delay ?? 0))
    req.session[String(req.query.name ?? 'x')] = String(req.query.value ?? '')
    reply(req, res, next, { ok: true, user: req.session.user ?? null })
  })
  app.post('/login', async (req, res, next) => {
    await sleep(Number(req.query.delay ?? 0))
    const keep = { ...req.session }
    req.session.regenerate((err) => {
      if (err) return next(err)
      for (const [k, v] of Object.entries(keep)) if (k !== 'cookie') req.session[k] = v
      req.session.user = String(req.query.user ?? '')
      reply(req, res, next, { ok: true })
    })
  })
  app.post('/logout', (req, res, next) => {
    req.session.destroy((err) => (err ? next(err) : res.json({ ok: true })))
  })
  app.get('/hang', (req) => {
    // Touch the session so the handler clearly ran with it loaded, then never answer.
    void req.session.id
  })
  app.use((err: unknown, _req: Request, res: Response, _next: NextFunction) => {
    res.status(isSessionError(err) ? err.statusCode : 500).json({ error: String(err) })
  })
  return app
}

/** Serve on 127.0.0.1, port 0. */
export function listen(app: express.Express): Promise<RunningApp> {
  return serveLoopback(app)
}

/** The session id inside an express-session cookie (`connect.sid=s%3A<id>.<signature>`). */
export function idOf(cookie: string | null): string {
  const value = decodeURIComponent((cookie ?? '').split('=')[1] ?? '')
  const id = value.startsWith('s:') ? value.slice(2, value.lastIndexOf('.')) : ''
  if (!id) throw new Error(`no session id in cookie ${cookie}`)
  return id
}

/** A client with its own cookie jar (one cookie name, as express-session uses). */
export class Client {
  cookie: string | null = null

  constructor(readonly base: string) {}

  async call(method: string, path: string, init: { signal?: AbortSignal } = {}) {
    const res = await fetch(this.base + path, {
      method,
      headers: this.cookie ? { cookie: this.cookie } : {},
      redirect: 'manual',
      signal: init.signal,
    })
    for (const line of res.headers.getSetCookie()) {
      const pair = line.split(';')[0] ?? ''
      const expired = /expires=Thu, 01 Jan 1970/i.test(line) || /max-age=0/i.test(line)
      this.cookie = expired ? null : pair
    }
    const text = await res.text()
    let body: Record<string, unknown>
    try {
      body = JSON.parse(text) as Record<string, unknown>
    } catch {
      body = { text }
    }
    return { status: res.status, body }
  }

  /** A second client holding the same cookie (another tab, a replayed cookie). */
  clone(): Client {
    const c = new Client(this.base)
    c.cookie = this.cookie
    return c
  }
}
