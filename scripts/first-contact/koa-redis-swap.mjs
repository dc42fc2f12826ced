// install: npm install $SESSILE/sessile-koa.tgz $SESSILE/sessile-core.tgz $SESSILE/sessile-redis.tgz koa koa-session
// A koa-session app on koa-redis that keeps its Redis and changes only its `store:` option:
// koa-session keeps naming sessions with randomUUID() (no genid); the manager has no id option.
import { createSessions } from '@sessile/core'
import { koaStore } from '@sessile/koa'
import { createStore } from '@sessile/redis'
import Koa from 'koa'
import session from 'koa-session'

const sessions = createSessions({
  store: createStore(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379', { prefix: 'first-contact-koa:' }),
})

const app = new Koa()
app.keys = [process.env.SESSION_SECRET]
app.use(session({ store: koaStore(sessions) }, app)) // the one changed option (was: redisStore())
app.use((ctx) => {
  ctx.session.views = (ctx.session.views ?? 0) + 1
  ctx.body = `views: ${ctx.session.views}`
})
app.listen(process.env.PORT ?? 3000)

// Not part of the swap: the test stops this app with SIGTERM, and its sessions go with it.
process.on('SIGTERM', () => sessions.store.clear().finally(() => process.exit(0)))
