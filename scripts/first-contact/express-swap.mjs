// install: npm install $SESSILE/sessile-express.tgz $SESSILE/sessile-core.tgz $SESSILE/sessile-drizzle.tgz express express-session @libsql/client
// An existing express-session app whose only change is its `store:` line (issue #21): it keeps
// express-session's own 24-byte ids (no genid) and sets no id option on the manager.
import { createSessions } from '@sessile/core'
import { createStore } from '@sessile/drizzle'
import { expressStore } from '@sessile/express'
import express from 'express'
import session from 'express-session'

const sessions = createSessions({ store: createStore('sqlite:./data/sessions.db') })

const app = express()
app.use(
  session({
    store: expressStore(sessions), // the one changed line (was: new RedisStore({ client }))
    secret: process.env.SESSION_SECRET,
    resave: false,
    saveUninitialized: false,
  }),
)
app.get('/', (req, res) => {
  req.session.views = (req.session.views ?? 0) + 1
  res.send(`views: ${req.session.views}`)
})
app.listen(process.env.PORT ?? 3000)
