// Sessile with Koa + koa-session. Start: pnpm start (PORT, DATABASE_URL, SESSION_SECRET).
import { deviceList } from '@sessile/example-shared/devices'
import { devices, errorPage, flashOf, home } from '@sessile/example-shared/page'
import { serveUntilStopped, setup } from '@sessile/example-shared/setup'
import { koaStore } from '@sessile/koa'
import Koa from 'koa'
import session from 'koa-session'

const FRAMEWORK = 'koa'
const { sessions, store, where, secret } = await setup('@sessile/example-koa')

const app = new Koa({ proxy: false })
app.keys = [secret]
const sessionStore = koaStore(sessions)
const COOKIE = 'sid'

// Error pages in the shared look; a store outage arrives as a SessionError with statusCode 503.
app.use(async (ctx, next) => {
  try {
    await next()
  } catch (err) {
    const status = err.statusCode ?? err.status ?? 500
    if (status >= 500) console.error(err)
    // koa-session's commit runs inside next(), so headers are not sent yet; guard anyway.
    if (ctx.headerSent) return
    ctx.status = status
    ctx.type = 'html'
    ctx.body = errorPage({ framework: FRAMEWORK, status })
  }
})
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

/** What the device list shows; written only when it changed, so page views stay cheap. */
function remember(ctx) {
  const ua = String(ctx.get('user-agent')).slice(0, 300)
  if (ctx.session.ua !== ua) ctx.session.ua = ua
  if (ctx.session.ip !== ctx.ip) ctx.session.ip = ctx.ip
}

const see = (ctx, path) => {
  ctx.redirect(path)
  ctx.status = 303
}

app.use(async (ctx) => {
  const route = `${ctx.method} ${ctx.path}`
  if (route === 'GET /') {
    ctx.session.views = (ctx.session.views ?? 0) + 1
    remember(ctx)
    ctx.type = 'html'
    ctx.body = home({
      framework: FRAMEWORK,
      views: ctx.session.views,
      user: ctx.session.user,
      where,
      flash: flashOf(ctx.query.m),
    })
  } else if (route === 'GET /favicon.ico') {
    ctx.status = 204
  } else if (route === 'POST /login') {
    const user = ((await form(ctx)).get('user') ?? '').trim().slice(0, 64)
    if (!user) return see(ctx, '/')
    // A new id at login: a session id planted before login is worthless afterwards.
    const views = ctx.session.views
    await ctx.session.regenerate()
    ctx.session.user = user
    ctx.session.views = views
    remember(ctx)
    see(ctx, '/?m=in')
  } else if (route === 'POST /logout') {
    ctx.session = null
    see(ctx, '/?m=out')
  } else if (route === 'GET /devices') {
    const user = ctx.session.user
    if (!user) return see(ctx, '/')
    ctx.type = 'html'
    ctx.body = devices({
      framework: FRAMEWORK,
      user,
      list: await deviceList(sessions, user, currentKey(ctx)),
      flash: flashOf(ctx.query.m),
    })
  } else if (route === 'POST /devices/logout-others') {
    const user = ctx.session.user
    if (!user) return see(ctx, '/')
    const ended = await sessions.destroyByRef(user, { except: currentKey(ctx) })
    see(ctx, `/devices?m=others-${ended.length}`)
  } else {
    ctx.status = 404
  }
})

const port = Number(process.env.PORT ?? 3001)
const server = app.listen(port, () => serveUntilStopped({ server, store, name: FRAMEWORK, port, where }))
