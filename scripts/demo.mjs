// `pnpm demo`: store, read back and expire a session on the embedded default (SQLite, chosen by
// measurement: docs/embedded-default.md), printing each step. Needs no database server and no
// configuration.
import { setTimeout as sleep } from 'node:timers/promises'
import { createSessions } from '@sessile/core'
import { sqliteStore } from '@sessile/drizzle/sqlite'

const store = sqliteStore() // in memory; sqliteStore({ path: './data/sessions.db' }) keeps it on disk
const sessions = createSessions({
  store,
  ref: (data) => data.userId ?? null,
  idleTimeout: '2s',
  absoluteTimeout: '1h',
})

const session = await sessions.load(undefined) // a browser with no cookie
session.set('userId', 'ada').set('cart', ['tea', 'scones'])
const saved = await sessions.commit(session)
console.log(`1. stored a new session (${saved.write}); the cookie would carry id ${saved.id.slice(0, 10)}…`)

const again = await sessions.load(saved.id)
console.log(`2. read it back: isNew=${again.isNew}, data=${JSON.stringify(again.data)}`)
console.log(
  `   sessions of ada: ${(await sessions.findByRef('ada')).length}, active: ${await sessions.count()}`,
)

console.log('3. waiting 2.5 s for the idle timeout (2 s) to pass…')
await sleep(2500)
const expired = await sessions.load(saved.id)
console.log(
  `4. the same cookie now gets a fresh session: isNew=${expired.isNew}, new id differs: ${expired.id !== saved.id}`,
)
const swept = await store.sweep(100)
console.log(
  `5. a sweep removed ${swept.length} expired row(s), handing over ref ${JSON.stringify(swept[0]?.ref)}`,
)
await store.close()
