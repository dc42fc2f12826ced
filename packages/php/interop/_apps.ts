import { getRequestListener } from '@hono/node-server'
import type { Session, Sessions } from '@sessile/core'
import { serveLoopback } from '@sessile/core/testing'
import { type PhpSessionRequest, phpSession } from '@sessile/express'
import { honoSession, type SessionEnv } from '@sessile/hono'
import { koaPhpSession } from '@sessile/koa'
import express from 'express'
import { Hono } from 'hono'
import Koa from 'koa'

/** The Node side of the shared login: the same routes on Express and on Hono. */
export async function expressApp(sessions: Sessions) {
  const app = express()
  app.use(phpSession(sessions))
  app.get('/whoami', (req, res) => {
    const { session } = req as unknown as PhpSessionRequest
    res.json({ isNew: session.isNew, session: session.data })
  })
  app.get('/inc', (req, res) => {
    const { session } = req as unknown as PhpSessionRequest
    session.set('counter', ((session.get('counter') as number) ?? 0) + 1)
    res.json({ session: session.data })
  })
  app.get('/logout', (req, res) => {
    ;(req as unknown as PhpSessionRequest).session.destroy()
    res.json({})
  })
  return serveLoopback(app)
}

export async function honoApp(sessions: Sessions) {
  const app = new Hono<SessionEnv>()
  app.use(honoSession(sessions, { cookieName: 'PHPSESSID', secure: false }))
  app.get('/whoami', (c) => c.json({ isNew: c.get('session').isNew, session: c.get('session').data }))
  app.get('/inc', (c) => {
    const session = c.get('session')
    session.set('counter', ((session.get('counter') as number) ?? 0) + 1)
    return c.json({ session: session.data })
  })
  app.get('/logout', (c) => {
    c.get('session').destroy()
    return c.json({})
  })
  return serveLoopback(getRequestListener(app.fetch))
}

export async function koaApp(sessions: Sessions) {
  const app = new Koa()
  app.use(koaPhpSession(sessions))
  app.use((ctx) => {
    const session = ctx.state.session as Session
    if (ctx.path === '/inc') session.set('counter', ((session.get('counter') as number) ?? 0) + 1)
    if (ctx.path === '/logout') session.destroy()
    ctx.body = { isNew: session.isNew, session: session.data }
  })
  return serveLoopback(app.callback())
}
