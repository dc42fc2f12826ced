import type { Session } from '@sessile/core'
import { describePlainCookieAdapter, serveLoopback } from '@sessile/core/testing'
import Koa from 'koa'
import { koaPhpSession } from '../src/index.js'

describePlainCookieAdapter('koaPhpSession: the plain PHPSESSID cookie on Koa', {
  middleware: koaPhpSession,
  start: (sessions) => {
    const k = new Koa()
    k.use(koaPhpSession(sessions))
    k.use((ctx) => {
      const session = ctx.state.session as Session
      if (ctx.path === '/inc') {
        session.set('n', ((session.get('n') as number) ?? 0) + 1)
        ctx.body = { n: session.get('n'), isNew: session.isNew }
      } else if (ctx.path === '/logout') {
        session.destroy()
        ctx.body = {}
      } else ctx.body = session.data
    })
    return serveLoopback(k.callback())
  },
})
