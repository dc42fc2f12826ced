/**
 * `@sessile/express/testing`: the route contract of `describeHttpAdapter` (from
 * `@sessile/core/testing`) on express + express-session, so a store package can run the HTTP suite
 * through Express. Imports express; use it from tests only. It widens express-session's
 * `SessionData` with the suite's fields (`count`, `user`, any other as `unknown`).
 *
 * @example
 * describeHttpAdapter('express on my store', {
 *   store: () => myStore(),
 *   start: (sessions) => listen(contractApp(sessions).app),
 * })
 */
import { setTimeout as sleep } from 'node:timers/promises'
import { isSessionError, type Sessions } from '@sessile/core'
import { type HttpAdapterApp, serveLoopback } from '@sessile/core/testing'
import express, { type NextFunction, type Request, type Response } from 'express'
import session from 'express-session'
import { expressStore, type SessileExpressStore } from './express-store.js'

declare module 'express-session' {
  interface SessionData {
    count?: number
    user?: string
    [field: string]: unknown
  }
}

/**
 * express-session saves at `res.end`, after the status line has gone out, so a failed save cannot
 * become an error response there. Saving before replying is the documented way to get one.
 */
function reply(req: Request, res: Response, next: NextFunction, body: unknown): void {
  req.session.save((err) => (err ? next(err) : res.json(body)))
}

/** The route contract of describeHttpAdapter, on express + express-session. */
export function contractApp(sessions: Sessions): { app: express.Express; store: SessileExpressStore } {
  const store = expressStore(sessions)
  const app = express()
  app.use(
    session({
      store,
      genid: store.genid,
      secret: 'a test secret that is long enough to sign cookies',
      resave: false,
      saveUninitialized: false,
      cookie: { maxAge: sessions.options.idle },
    }),
  )
  app.get('/count', (req, res, next) => {
    req.session.count = (req.session.count ?? 0) + 1
    reply(req, res, next, { count: req.session.count })
  })
  app.get('/data', (req, res) => {
    const { cookie: _cookie, ...data } = req.session
    res.json({ data })
  })
  app.post('/set', async (req, res, next) => {
    await sleep(Number(req.query.delay ?? 0))
    req.session[String(req.query.name ?? 'x')] = String(req.query.value ?? '')
    reply(req, res, next, { ok: true })
  })
  app.post('/login', (req, res, next) => {
    req.session.regenerate((err) => {
      if (err) return next(err)
      req.session.user = String(req.query.user ?? '')
      reply(req, res, next, { ok: true })
    })
  })
  app.post('/logout', (req, res, next) => {
    req.session.destroy((err) => (err ? next(err) : res.json({ ok: true })))
  })
  app.use((err: unknown, _req: Request, res: Response, _next: NextFunction) => {
    res.status(isSessionError(err) ? err.statusCode : 500).json({ error: String(err) })
  })
  return { app, store }
}

/** Serve an app made by {@link contractApp} on 127.0.0.1 at a free port. */
export function listen(app: express.Express): Promise<HttpAdapterApp> {
  return serveLoopback(app)
}
