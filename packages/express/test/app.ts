import express from 'express'
import session from 'express-session'

// req.session.count is typed by the express-session augmentation in ../src/testing.ts.
/** One route counting hits, saved by express-session itself at res.end (no explicit save). */
export function autoSaveApp(options: session.SessionOptions): express.Express {
  const app = express()
  app.use(session(options))
  app.get('/count', (req, res) => {
    req.session.count = (req.session.count ?? 0) + 1
    res.json({ count: req.session.count })
  })
  return app
}
