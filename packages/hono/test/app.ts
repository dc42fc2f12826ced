import type { AddressInfo } from 'node:net'
import { setTimeout as sleep } from 'node:timers/promises'
import { serve } from '@hono/node-server'
import { isSessionError, type Sessions } from '@sessile/core'
import type { HttpAdapterApp } from '@sessile/core/testing'
import { Hono } from 'hono'
import { type HonoSessionOptions, honoSession, type SessionEnv } from '../src/index.js'

/** The route contract of describeHttpAdapter, on Hono. */
export function contractApp(sessions: Sessions, options?: HonoSessionOptions): Hono<SessionEnv> {
  const app = new Hono<SessionEnv>()
  app.use(honoSession(sessions, options))
  app.get('/count', (c) => {
    const s = c.get('session')
    const count = ((s.get('count') as number | undefined) ?? 0) + 1
    s.set('count', count)
    return c.json({ count })
  })
  app.get('/data', (c) => c.json({ data: c.get('session').data }))
  app.post('/set', async (c) => {
    await sleep(Number(c.req.query('delay') ?? 0))
    c.get('session').set(c.req.query('name') ?? 'x', c.req.query('value') ?? '')
    return c.json({ ok: true })
  })
  app.post('/login', (c) => {
    c.get('session')
      .regenerate()
      .set('user', c.req.query('user') ?? '')
    return c.json({ ok: true })
  })
  app.post('/logout', (c) => {
    c.get('session').destroy()
    return c.json({ ok: true })
  })
  app.onError((e, c) => (isSessionError(e) ? c.text(e.message, e.statusCode as 503) : c.text('boom', 500)))
  return app
}

export function listen(app: Hono<SessionEnv>): Promise<HttpAdapterApp> {
  return new Promise((resolve) => {
    const server = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' }, (info: AddressInfo) => {
      resolve({
        url: `http://127.0.0.1:${info.port}`,
        close: () =>
          new Promise<void>((done) => {
            server.close(() => done())
            ;(server as unknown as { closeAllConnections?: () => void }).closeAllConnections?.()
          }),
      })
    })
  })
}
