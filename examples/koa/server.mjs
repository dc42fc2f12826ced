// Sessile with Koa + koa-session. Start: pnpm start (PORT, DATABASE_URL, SESSION_KEYS).
import { createSessions } from '@sessile/core'
import { koaStore } from '@sessile/koa'
import Koa from 'koa'
import session from 'koa-session'
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

const app = new Koa()
app.keys = (process.env.SESSION_KEYS ?? 'dev only: set SESSION_KEYS in production').split(',')
const sessionStore = koaStore(sessions)
const COOKIE = 'sid'
app.use(
  session(
    { key: COOKIE, store: sessionStore, genid: sessionStore.genid, maxAge: 30 * 60_000, sameSite: 'lax' },
    app,
  ),
)

async function form(ctx) {
  let body = ''
  for await (const chunk of ctx.req) {
    body += chunk
    if (body.length > 4096) ctx.throw(413)
  }
  return new URLSearchParams(body)
}

// The session id is the (signed) cookie value koa-session keeps its store key in.
const currentKey = (ctx) => sessions.keyOf(ctx.cookies.get(COOKIE, { signed: true }) ?? '')

app.use(async (ctx) => {
  const route = `${ctx.method} ${ctx.path}`
  if (route === 'GET /') {
    ctx.session.views = (ctx.session.views ?? 0) + 1
    ctx.type = 'html'
    ctx.body = home({ framework: 'koa', views: ctx.session.views, user: ctx.session.user, where })
  } else if (route === 'POST /login') {
    const user = ((await form(ctx)).get('user') ?? '').trim().slice(0, 64)
    if (user) {
      // A new id at login: a session id planted before login is worthless afterwards.
      await ctx.session.regenerate()
      ctx.session.user = user
    }
    ctx.redirect('/')
    ctx.status = 303
  } else if (route === 'POST /logout') {
    ctx.session = null
    ctx.redirect('/')
    ctx.status = 303
  } else if (route === 'GET /devices') {
    const user = ctx.session.user
    if (!user) return ctx.redirect('/')
    ctx.type = 'html'
    ctx.body = devices({ user, rows: await sessions.findByRef(user), currentKey: currentKey(ctx) })
  } else if (route === 'POST /devices/logout-others') {
    const user = ctx.session.user
    if (user) await sessions.destroyByRef(user, { except: currentKey(ctx) })
    ctx.redirect('/devices')
    ctx.status = 303
  } else {
    ctx.status = 404
  }
})

// A store outage arrives as a SessionError with statusCode 503; Koa answers with that status.
const port = Number(process.env.PORT ?? 3001)
const server = app.listen(port, () =>
  console.log(`koa example on http://localhost:${port} (sessions in ${where})`),
)
const stop = () => server.close(() => store.close().then(() => process.exit(0)))
process.on('SIGINT', stop)
process.on('SIGTERM', stop)
