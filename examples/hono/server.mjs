// Sessile with Hono on Node. Start: pnpm start (PORT, DATABASE_URL).
import { serve } from '@hono/node-server'
import { createSessions } from '@sessile/core'
import { honoSession } from '@sessile/hono'
import { Hono } from 'hono'
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

const app = new Hono()
// HttpOnly, SameSite=Lax, Path=/; Secure and the __Host- prefix everywhere but plain-HTTP localhost.
app.use(honoSession(sessions))

app.get('/', (c) => {
  const session = c.get('session')
  const views = (session.get('views') ?? 0) + 1
  session.set('views', views)
  return c.html(home({ framework: 'hono', views, user: session.get('user'), where }))
})

app.post('/login', async (c) => {
  const user = String((await c.req.parseBody()).user ?? '')
    .trim()
    .slice(0, 64)
  // A new id at login: a session id planted before login is worthless afterwards.
  if (user) c.get('session').regenerate().set('user', user)
  return c.redirect('/', 303)
})

app.post('/logout', (c) => {
  c.get('session').destroy()
  return c.redirect('/', 303)
})

app.get('/devices', async (c) => {
  const session = c.get('session')
  const user = session.get('user')
  if (!user) return c.redirect('/', 303)
  const rows = await sessions.findByRef(user)
  return c.html(devices({ user, rows, currentKey: sessions.keyOf(session.id) }))
})

app.post('/devices/logout-others', async (c) => {
  const session = c.get('session')
  const user = session.get('user')
  if (user) await sessions.destroyByRef(user, { except: sessions.keyOf(session.id) })
  return c.redirect('/devices', 303)
})

const port = Number(process.env.PORT ?? 3002)
const server = serve({ fetch: app.fetch, port }, () =>
  console.log(`hono example on http://localhost:${port} (sessions in ${where})`),
)
const stop = () => server.close(() => store.close().then(() => process.exit(0)))
process.on('SIGINT', stop)
process.on('SIGTERM', stop)
