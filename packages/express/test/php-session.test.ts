import { describePlainCookieAdapter, serveLoopback } from '@sessile/core/testing'
import express from 'express'
import { type PhpSessionRequest, phpSession } from '../src/index.js'

describePlainCookieAdapter('phpSession: the plain PHPSESSID cookie on Express', {
  middleware: phpSession,
  start: (sessions) => {
    const e = express()
    e.use(phpSession(sessions))
    e.get('/inc', (req, res) => {
      const { session } = req as unknown as PhpSessionRequest
      session.set('n', ((session.get('n') as number) ?? 0) + 1)
      res.json({ n: session.get('n'), isNew: session.isNew })
    })
    e.get('/read', (req, res) => res.json((req as unknown as PhpSessionRequest).session.data))
    e.get('/logout', (req, res) => {
      ;(req as unknown as PhpSessionRequest).session.destroy()
      res.json({})
    })
    return serveLoopback(e)
  },
})
