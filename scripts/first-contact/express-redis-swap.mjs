// install: npm install $SESSILE/sessile-express.tgz $SESSILE/sessile-core.tgz $SESSILE/sessile-redis.tgz express express-session
// An express-session app on connect-redis that keeps its Redis and changes only its `store:` line:
// express-session's own 24-byte ids (no genid), no id option on the manager.
import { createSessions } from '@sessile/core'
import { expressStore } from '@sessile/express'
import { createStore } from '@sessile/redis'
import express from 'express'
import session from 'express-session'

const sessions = createSessions({
  store: createStore(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379', { prefix: 'first-contact:' }),
})

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

// Not part of the swap: the test stops this app with SIGTERM, and its sessions go with it.
process.on('SIGTERM', () => sessions.store.clear().finally(() => process.exit(0)))
