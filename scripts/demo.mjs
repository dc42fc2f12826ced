// `pnpm demo`: what Sessile does, on the embedded database (SQLite in memory, the default chosen
// in docs/embedded-default.md), step by step: a session stored encrypted with its key hashed, the
// row as SQL sees it, a device list, and the expiry callback firing with the user's ref. Needs no
// database server and no configuration.
import { randomBytes } from 'node:crypto'
import { setTimeout as sleep } from 'node:timers/promises'
import { createSessions } from '@sessile/core'
import { sqliteStore } from '@sessile/drizzle/sqlite'
import { aesGcm } from '@sessile/filters'
import { expiryNotifier } from '@sessile/notify'

const db = await openMemoryDatabase() // the store uses it, and so do we, to show the raw row
const store = sqliteStore({ client: db.client })
const sessions = createSessions({
  store,
  filters: [aesGcm({ keys: { k1: randomBytes(32) }, current: 'k1' })], // encrypted at rest
  secret: randomBytes(32), // keys stored as HMAC-SHA-256(secret, id)
  ref: (data) => data.userId ?? null, // indexed: device lists, "log out everywhere"
  idleTimeout: '2s',
  absoluteTimeout: '1h',
})
let heard
const expiredOnce = new Promise((resolve) => {
  heard = resolve
})
const notifier = expiryNotifier(sessions, {
  interval: false,
  onExpire: (ref, key) => heard({ ref, key }),
})

const session = await sessions.load(undefined) // a browser with no cookie
session.set('userId', 'ada').set('cart', ['tea', 'scones'])
const saved = await sessions.commit(session)
console.log(`1. stored a new session; the cookie carries id ${saved.id.slice(0, 12)}…`)

const [row] = await db.rows(
  'select key, ref, length(data) as bytes, lower(hex(substr(data, 1, 24))) as head, expiry from sessions',
)
console.log('2. the row, as SQL sees it (select key, ref, data, expiry from sessions):')
console.log(`     key    ${row.key.slice(0, 24)}…   (an HMAC of the id, not the id)`)
console.log(`     ref    ${row.ref}`)
console.log(`     data   ${row.bytes} bytes, ${row.head}…   (AES-256-GCM; no "tea" in sight)`)
console.log(`     expiry ${new Date(Number(row.expiry)).toISOString()}   (the database's clock)`)

const again = await sessions.load(saved.id)
console.log(`3. read back with the cookie: ${JSON.stringify(again.data)}`)
console.log(
  `   devices of ada: ${(await sessions.findByRef('ada')).length}, sessions active: ${await sessions.count()}`,
)

console.log('4. waiting 2.5 s for the idle timeout (2 s) to pass, then sweeping…')
await sleep(2500)
const swept = await notifier.sweep()
const { ref, key } = await expiredOnce
console.log(
  `5. onExpire(ref, key) fired: ref ${JSON.stringify(ref)}, key ${key.slice(0, 12)}… (${swept.expired} expired)`,
)
const late = await sessions.load(saved.id)
console.log(`6. the old cookie now gets a fresh, empty session: isNew=${late.isNew}`)

await notifier.stop()
await store.close()
db.client.close()

// better-sqlite3 where its native build worked at install time, else libSQL, as sqliteStore()
// chooses by itself (docs/sqlite.md): both are in this workspace.
async function openMemoryDatabase() {
  try {
    const { default: Database } = await import('better-sqlite3')
    const client = new Database(':memory:')
    return { client, rows: async (sql) => client.prepare(sql).all() }
  } catch {
    const { createClient } = await import('@libsql/client')
    const client = createClient({ url: ':memory:', intMode: 'number' })
    return { client, rows: async (sql) => (await client.execute(sql)).rows }
  }
}
