import { setTimeout as sleep } from 'node:timers/promises'
import type { Sessions } from '@sessile/core'
import { type HttpAdapterApp, serveLoopback } from '@sessile/core/testing'
import Koa from 'koa'
import session from 'koa-session'
import { koaStore } from '../src/index.js'

type Fields = Record<string, unknown>

/** The route contract of describeHttpAdapter, on Koa + koa-session. */
export function contractApp(sessions: Sessions, options: { rolling?: boolean; renew?: boolean } = {}) {
  const store = koaStore(sessions)
  const app = new Koa()
  app.keys = ['a test key that is long enough to sign cookies']
  app.silent = true
  app.use(session({ store, genid: store.genid, maxAge: sessions.options.idle, ...options }, app))
  app.use(async (ctx) => {
    const s = ctx.session as unknown as Fields & {
      regenerate(): Promise<void>
      toJSON(): Fields
    }
    const q = ctx.query as Record<string, string | undefined>
    const route = `${ctx.method} ${ctx.path}`
    if (route === 'GET /count') {
      s.count = ((s.count as number | undefined) ?? 0) + 1
      ctx.body = { count: s.count }
    } else if (route === 'GET /data') {
      ctx.body = { data: s.toJSON() }
    } else if (route === 'POST /set') {
      await sleep(Number(q.delay ?? 0))
      s[q.name ?? 'x'] = q.value ?? ''
      ctx.body = { ok: true }
    } else if (route === 'POST /login') {
      await s.regenerate()
      ;(ctx.session as unknown as Fields).user = q.user ?? ''
      ctx.body = { ok: true }
    } else if (route === 'POST /logout') {
      ctx.session = null
      ctx.body = { ok: true }
    } else {
      ctx.status = 404
    }
  })
  return { app, store }
}

export function listen(app: Koa): Promise<HttpAdapterApp> {
  return serveLoopback(app.callback())
}
