/**
 * The app under fault, in a process of its own so a crash cannot hide inside the test runner:
 * Express 5 + express-session on the Sessile express store, as src/app.ts, on one SQL store.
 *
 * Plain ESM JavaScript importing the BUILT packages (dist): Node 20 runs it without a TypeScript
 * loader. Build first (`pnpm -w build`; the root `pnpm test:faults` does).
 *
 * Environment: FAULT_STORE = pg | mysql, FAULT_URL, FAULT_TABLE, FAULT_APP_NAME (pg
 * application_name), FAULT_POOL (pool size).
 *
 * Routes: `GET /count` (count += 1, reply `{ count, user }`), `POST /login?user=U`, `GET /data`
 * (reply `{ data }`, change nothing), `GET /stats` (no session: unhandled rejections and uncaught
 * exceptions seen so far). A SessionError ends the request with its status (503 when the store is
 * down). Prints `LISTENING <port>` when ready; exits 0 on SIGTERM, non-zero only on a crash.
 */
import { createSessions, isSessionError } from '@sessile/core'
import { expressStore } from '@sessile/express'
import express from 'express'
import session from 'express-session'

const stats = { unhandledRejections: 0, uncaughtExceptions: 0, errors500: 0 }
process.on('unhandledRejection', (reason) => {
  stats.unhandledRejections++
  console.error('[app] unhandledRejection:', reason)
})
process.on('uncaughtException', (error) => {
  stats.uncaughtExceptions++
  console.error('[app] uncaughtException:', error)
})

const kind = process.env.FAULT_STORE
const url = process.env.FAULT_URL
const table = process.env.FAULT_TABLE
const pool = Number(process.env.FAULT_POOL ?? 10)
if (!url || !table || (kind !== 'pg' && kind !== 'mysql')) {
  console.error('[app] FAULT_STORE (pg | mysql), FAULT_URL and FAULT_TABLE are required')
  process.exit(2)
}

const store =
  kind === 'pg'
    ? (await import('@sessile/drizzle/pg')).pgStore({
        url,
        table,
        max: pool,
        applicationName: process.env.FAULT_APP_NAME ?? 'sessile-faults',
        connectTimeout: 3,
        // A statement stuck on a connection the restart dropped fails (503) instead of hanging.
        queryTimeout: 5000,
      })
    : (await import('@sessile/drizzle/mysql')).mysqlStore({
        url,
        table,
        connectionLimit: pool,
        connectTimeout: 3000,
      })
await store.ensureSchema()
const sessions = createSessions({ store })
const sessionStore = expressStore(sessions)

// Save before replying, so a failed save becomes an error response instead of a lost write.
const reply = (req, res, next, body) => req.session.save((err) => (err ? next(err) : res.json(body)))

const app = express()
app.get('/stats', (_req, res) => res.json(stats))
app.use(
  session({
    store: sessionStore,
    genid: sessionStore.genid,
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
app.post('/login', (req, res, next) => {
  req.session.regenerate((err) => {
    if (err) return next(err)
    req.session.user = String(req.query.user ?? '')
    reply(req, res, next, { ok: true })
  })
})
app.use((err, _req, res, _next) => {
  const status = isSessionError(err) ? err.statusCode : 500
  if (status === 500) {
    stats.errors500++
    console.error('[app] 500:', err)
  }
  res.status(status).json({ error: String(err), code: isSessionError(err) ? err.code : null })
})

const server = app.listen(0, '127.0.0.1', () => {
  console.log(`LISTENING ${server.address().port}`)
})

process.on('SIGTERM', () => {
  server.close()
  server.closeAllConnections()
  store.close().then(
    () => process.exit(0),
    (error) => {
      console.error('[app] close:', error)
      process.exit(0)
    },
  )
})
