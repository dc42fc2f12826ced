// Sessile with Hono on Node. Start: pnpm start (PORT, DATABASE_URL, SESSION_SECRET).
import { serve } from '@hono/node-server'
import { getConnInfo } from '@hono/node-server/conninfo'
import { deviceList } from '@sessile/example-shared/devices'
import { devices, errorPage, flashOf, home } from '@sessile/example-shared/page'
import { serveUntilStopped, setup } from '@sessile/example-shared/setup'
import { honoSession } from '@sessile/hono'
import { Hono } from 'hono'

const FRAMEWORK = 'hono'
const { sessions, store, where } = await setup('@sessile/example-hono')

const app = new Hono()
// HttpOnly, SameSite=Lax, Path=/; Secure and the __Host- prefix only on secure requests.
app.use(
  honoSession(sessions, {
    // Store failures (503) and oversized data (413) in the shared look.
    onError: (error, c) =>
      c.html(errorPage({ framework: FRAMEWORK, status: error.statusCode }), error.statusCode),
  }),
)
app.onError((err, c) => {
  console.error(err)
  const status = err.statusCode ?? 500
  return c.html(errorPage({ framework: FRAMEWORK, status }), status)
})

/** What the device list shows; written only when it changed, so page views stay cheap. */
function remember(c) {
  const session = c.get('session')
  const ua = String(c.req.header('user-agent') ?? '').slice(0, 300)
  const ip = getConnInfo(c).remote.address ?? '?'
  if (session.get('ua') !== ua) session.set('ua', ua)
  if (session.get('ip') !== ip) session.set('ip', ip)
}

app.get('/', (c) => {
  const session = c.get('session')
  const views = (session.get('views') ?? 0) + 1
  session.set('views', views)
  remember(c)
  return c.html(
    home({ framework: FRAMEWORK, views, user: session.get('user'), where, flash: flashOf(c.req.query('m')) }),
  )
})

app.post('/login', async (c) => {
  const body = await c.req.parseBody().catch(() => ({}))
  const user = String(body.user ?? '')
    .trim()
    .slice(0, 64)
  if (!user) return c.redirect('/', 303)
  // A new id at login: a session id planted before login is worthless afterwards.
  c.get('session').regenerate().set('user', user)
  remember(c)
  return c.redirect('/?m=in', 303)
})

app.post('/logout', (c) => {
  c.get('session').destroy()
  return c.redirect('/?m=out', 303)
})

app.get('/devices', async (c) => {
  const session = c.get('session')
  const user = session.get('user')
  if (!user) return c.redirect('/', 303)
  const list = await deviceList(sessions, user, sessions.keyOf(session.id))
  return c.html(devices({ framework: FRAMEWORK, user, list, flash: flashOf(c.req.query('m')) }))
})

app.post('/devices/logout-others', async (c) => {
  const session = c.get('session')
  const user = session.get('user')
  if (!user) return c.redirect('/', 303)
  const ended = await sessions.destroyByRef(user, { except: sessions.keyOf(session.id) })
  return c.redirect(`/devices?m=others-${ended.length}`, 303)
})

const port = Number(process.env.PORT ?? 3002)
const server = serve({ fetch: app.fetch, port }, () =>
  serveUntilStopped({ server, store, name: FRAMEWORK, port, where }),
)
