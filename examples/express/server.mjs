// Sessile with express + express-session. Start: pnpm start (PORT, DATABASE_URL, SESSION_SECRET).
import { createSessions } from '@sessile/core'
import { expressStore } from '@sessile/express'
import express from 'express'
import session from 'express-session'
import { devices, home } from './page.mjs'
import { openStore } from './store.mjs'

const { store, where } = await openStore()
const sessions = createSessions({
  store,
  // The user id is stored beside each session, indexed: it powers the device list below.
  ref: (data) => (typeof data.user === 'string' ? data.user : null),
  idleTimeout: '30m',
  absoluteTimeout: '12h',
})

const sessionStore = expressStore(sessions)
const app = express()
app.use(express.urlencoded({ extended: false }))
app.use(
  session({
    store: sessionStore,
    genid: sessionStore.genid,
    secret: process.env.SESSION_SECRET ?? 'dev only: set SESSION_SECRET in production',
    resave: false,
    saveUninitialized: false,
    cookie: { httpOnly: true, sameSite: 'lax', secure: 'auto' },
  }),
)

app.get('/', (req, res) => {
  req.session.views = (req.session.views ?? 0) + 1
  res
    .type('html')
    .send(home({ framework: 'express', views: req.session.views, user: req.session.user, where }))
})

app.post('/login', (req, res, next) => {
  const user = String(req.body.user ?? '')
    .trim()
    .slice(0, 64)
  if (!user) return res.redirect(303, '/')
  const views = req.session.views
  // A new id at login: a session id planted before login is worthless afterwards.
  req.session.regenerate((err) => {
    if (err) return next(err)
    req.session.user = user
    req.session.views = views
    req.session.save((e) => (e ? next(e) : res.redirect(303, '/')))
  })
})

app.post('/logout', (req, res, next) => {
  req.session.destroy((err) => (err ? next(err) : res.redirect(303, '/')))
})

app.get('/devices', async (req, res) => {
  const user = req.session.user
  if (!user) return res.redirect(303, '/')
  const rows = await sessions.findByRef(user)
  res.type('html').send(devices({ user, rows, currentKey: sessions.keyOf(req.sessionID) }))
})

app.post('/devices/logout-others', async (req, res) => {
  const user = req.session.user
  if (user) await sessions.destroyByRef(user, { except: sessions.keyOf(req.sessionID) })
  res.redirect(303, '/devices')
})

// A store outage arrives here as a SessionError with statusCode 503.
app.use((err, _req, res, _next) => {
  console.error(err)
  res
    .status(err.statusCode ?? 500)
    .type('text')
    .send(err.statusCode === 503 ? 'Sessions are unavailable, try again shortly.' : 'Something went wrong.')
})

const port = Number(process.env.PORT ?? 3000)
const server = app.listen(port, () =>
  console.log(`express example on http://localhost:${port} (sessions in ${where})`),
)
const stop = () => server.close(() => store.close().then(() => process.exit(0)))
process.on('SIGINT', stop)
process.on('SIGTERM', stop)
