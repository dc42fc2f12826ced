// install: npm install $SESSILE/sessile-koa.tgz $SESSILE/sessile-core.tgz $SESSILE/sessile-drizzle.tgz koa koa-session @libsql/client
// An existing koa-session app whose only change is its `store:` option (issue #21): koa-session
// keeps naming sessions with randomUUID() (no genid); the manager has no id option.
import { createSessions } from '@sessile/core'
import { createStore } from '@sessile/drizzle'
import { koaStore } from '@sessile/koa'
import Koa from 'koa'
import session from 'koa-session'

const sessions = createSessions({ store: createStore('sqlite:./data/sessions.db') })

const app = new Koa()
app.keys = [process.env.SESSION_SECRET]
app.use(session({ store: koaStore(sessions) }, app)) // the one changed option
app.use((ctx) => {
  ctx.session.views = (ctx.session.views ?? 0) + 1
  ctx.body = `views: ${ctx.session.views}`
})
app.listen(process.env.PORT ?? 3000)
