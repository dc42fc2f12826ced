// One process of the embedded-default measurement (embedded.mjs): opens a store of one kind on a
// file or directory, then drives the manager for a while, and prints one JSON line of figures.
//   node src/embedded-child.mjs <pglite|sqlite|libsql> <path> <seconds>
import { performance } from 'node:perf_hooks'
import { createSessions } from '@sessile/core'

const [kind, path, seconds = '2'] = process.argv.slice(2)
const CONCURRENCY = 32
const SESSIONS = 256

async function open() {
  if (kind === 'pglite') return (await import('@sessile/drizzle/pglite')).pgliteStore({ dataDir: path })
  const { sqliteStore } = await import('@sessile/drizzle/sqlite')
  return sqliteStore({ path, driver: kind === 'libsql' ? 'libsql' : 'better-sqlite3' })
}

const store = await open()
const sessions = createSessions({ store, idleTimeout: '30m' })
// Ready means the first session is stored: the driver loaded, the database opened, the table made.
const first = sessions.create({ hello: 'world' })
await sessions.commit(first)
const startMs = performance.now()
const rssStart = process.memoryUsage().rss

const ids = []
for (let i = 0; i < SESSIONS; i++) {
  const s = sessions.create({
    user: `u${i}`,
    cart: Array.from({ length: 8 }, (_, j) => ({ sku: j, qty: 1 })),
  })
  await sessions.commit(s)
  ids.push(s.id)
}
// Each request loads a session and changes it: the work an app's session middleware does.
let requests = 0
const t0 = performance.now()
const until = t0 + Number(seconds) * 1000
await Promise.all(
  Array.from({ length: CONCURRENCY }, async (_, w) => {
    for (let i = w; performance.now() < until; i += CONCURRENCY) {
      const s = await sessions.load(ids[i % ids.length])
      s.set('n', i)
      await sessions.commit(s)
      requests++
    }
  }),
)
const opsPerSec = requests / ((performance.now() - t0) / 1000)
const rssEnd = process.memoryUsage().rss
await store.close()
console.log(
  JSON.stringify({ kind, startMs, rssStartMB: rssStart / 2 ** 20, rssEndMB: rssEnd / 2 ** 20, opsPerSec }),
)
