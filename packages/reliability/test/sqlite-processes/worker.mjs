/**
 * One app process of the SQLite several-processes test: a manager and an expiry notifier on one
 * database file that three other processes use at the same time.
 *
 * Plain ESM JavaScript importing the BUILT packages (dist): Node 20 runs it without a TypeScript
 * loader. Build first (`pnpm build`).
 *
 * Environment: SQLITE_FILE, SQLITE_TABLE, SQLITE_DRIVER (better-sqlite3 | libsql), WORKER (its
 * number), SHARED_IDS (JSON ids of the sessions every process changes), SECONDS, CONCURRENCY.
 *
 * Each of CONCURRENCY loops, for SECONDS: load a shared session, add 1 to this process's own
 * field in it and commit (four processes change different fields of the same sessions at once);
 * every few rounds it also stores a short-lived session with a ref, which expires and must be
 * reported by exactly one of the four notifiers. Prints one JSON line of what it did and saw.
 */
import { createSessions } from '@sessile/core'
import { sqliteStore } from '@sessile/drizzle/sqlite'
import { expiryNotifier } from '@sessile/notify'

const file = process.env.SQLITE_FILE
const table = process.env.SQLITE_TABLE
const driver = process.env.SQLITE_DRIVER ?? 'better-sqlite3'
const worker = Number(process.env.WORKER)
const shared = JSON.parse(process.env.SHARED_IDS ?? '[]')
const seconds = Number(process.env.SECONDS ?? 10)
const concurrency = Number(process.env.CONCURRENCY ?? 32)
const field = `p${worker}`

const unhandled = []
process.on('unhandledRejection', (reason) => unhandled.push(String(reason)))

const store = sqliteStore({ path: file, table, driver })
const sessions = createSessions({ store, idleTimeout: '1h' })
// Short-lived sessions go through a second manager on the same store: a 1 s idle timeout.
const brief = createSessions({ store, idleTimeout: '1s', ref: (data) => data.owner ?? null })

const commits = {}
const created = []
const notified = []
const errors = []
let busy = 0
let requests = 0

const isBusy = (e) =>
  /SQLITE_BUSY|database is locked/i.test(`${e?.message} ${e?.cause?.message} ${e?.cause?.code}`)
const notifier = expiryNotifier(brief, {
  interval: 200,
  jitter: 0.5,
  batchSize: 50,
  onExpire: (_ref, key) => {
    notified.push(key)
  },
  onError: (failure) => {
    if (isBusy(failure.error)) busy++
    else errors.push(`notify ${failure.stage}: ${String(failure.error?.message ?? failure.error)}`)
  },
})

async function loop(slot) {
  const id = shared[slot % shared.length]
  const until = Date.now() + seconds * 1000
  for (let round = 0; Date.now() < until; round++) {
    requests++
    try {
      const session = await sessions.load(id)
      session.set(field, (session.get(field) ?? 0) + 1)
      await sessions.commit(session)
      commits[id] = (commits[id] ?? 0) + 1
      if (round % 8 === slot % 8) {
        const s = brief.create({ owner: `w${worker}` })
        s.set('n', round)
        await brief.commit(s)
        created.push(brief.keyOf(s.id))
      }
    } catch (e) {
      if (isBusy(e)) busy++
      else errors.push(String(e?.message ?? e))
    }
  }
}

await Promise.all(Array.from({ length: concurrency }, (_, i) => loop(i)))
// Let the last short-lived sessions expire, then sweep until every notifier is done with them.
await new Promise((r) => setTimeout(r, 1500))
for (let i = 0; i < 5; i++) {
  try {
    await notifier.sweep()
  } catch (e) {
    if (isBusy(e)) busy++
    else errors.push(`sweep: ${String(e?.message ?? e)}`)
  }
  await new Promise((r) => setTimeout(r, 100))
}
await notifier.stop()
await store.close()
console.log(JSON.stringify({ worker, requests, commits, created, notified, busy, errors, unhandled }))
