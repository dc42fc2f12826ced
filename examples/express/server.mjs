// Sessile with express + express-session. Start: pnpm start (PORT, DATABASE_URL, SESSION_SECRET).
import { deviceList } from '@sessile/example-shared/devices'
import { devices, errorPage, flashOf, home } from '@sessile/example-shared/page'
import { serveUntilStopped, setup } from '@sessile/example-shared/setup'
import { expressStore } from '@sessile/express'
import express from 'express'
import session from 'express-session'

const FRAMEWORK = 'express'
const { sessions, store, where, secret } = await setup('@sessile/example-express')

const sessionStore = expressStore(sessions)
const app = express()
app.set('trust proxy', 'loopback')
app.use(express.urlencoded({ extended: false, limit: '4kb' }))
app.use(
  session({
    store: sessionStore,
    genid: sessionStore.genid,
    secret,
    resave: false,
    saveUninitialized: false,
    cookie: { httpOnly: true, sameSite: 'lax', secure: 'auto' },
  }),
)

// Saved before the reply, so a failed save is an error page, not a page that claims a visit.
const saved = (req) => new Promise((resolve, reject) => req.session.save((e) => (e ? reject(e) : resolve())))

/** What the device list shows; written only when it changed, so page views stay cheap. */
function remember(req) {
  const ua = String(req.get('user-agent') ?? '').slice(0, 300)
  if (req.session.ua !== ua) req.session.ua = ua
  if (req.session.ip !== req.ip) req.session.ip = req.ip
}

app.get('/', async (req, res) => {
  req.session.views = (req.session.views ?? 0) + 1
  remember(req)
  await saved(req)
  const flash = flashOf(req.query.m)
  res
    .type('html')
    .send(home({ framework: FRAMEWORK, views: req.session.views, user: req.session.user, where, flash }))
})

app.post('/login', (req, res, next) => {
  // A POST without a form body has no req.body in Express 5.
  const user = String(req.body?.user ?? '')
    .trim()
    .slice(0, 64)
  if (!user) return res.redirect(303, '/')
  const views = req.session.views
  // A new id at login: a session id planted before login is worthless afterwards.
  req.session.regenerate((err) => {
    if (err) return next(err)
    req.session.user = user
    req.session.views = views
    remember(req)
    req.session.save((e) => (e ? next(e) : res.redirect(303, '/?m=in')))
  })
})

app.post('/logout', (req, res, next) => {
  req.session.destroy((err) => (err ? next(err) : res.redirect(303, '/?m=out')))
})

app.get('/devices', async (req, res) => {
  const user = req.session.user
  if (!user) return res.redirect(303, '/')
  const list = await deviceList(sessions, user, sessions.keyOf(req.sessionID))
  res.type('html').send(devices({ framework: FRAMEWORK, user, list, flash: flashOf(req.query.m) }))
})

app.post('/devices/logout-others', async (req, res) => {
  const user = req.session.user
  if (!user) return res.redirect(303, '/')
  const ended = await sessions.destroyByRef(user, { except: sessions.keyOf(req.sessionID) })
  res.redirect(303, `/devices?m=others-${ended.length}`)
})

// A store outage arrives here as a SessionError with statusCode 503.
app.use((err, _req, res, next) => {
  const status = err.statusCode ?? err.status ?? 500
  if (status >= 500) console.error(err)
  // A reply already under way cannot become an error page; Express's own handler ends it.
  if (res.headersSent) return next(err)
  res
    .status(status)
    .type('html')
    .send(errorPage({ framework: FRAMEWORK, status }))
})

const port = Number(process.env.PORT ?? 3000)
const server = app.listen(port, () => serveUntilStopped({ server, store, name: FRAMEWORK, port, where }))
