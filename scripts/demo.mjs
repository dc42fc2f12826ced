// `pnpm demo`: what Sessile does, on the embedded database (PGlite in memory), step by step: a
// session stored encrypted with its key hashed, the row as SQL sees it, a device list, and the
// expiry callback firing with the user's ref. Needs no database server and no configuration.
import { randomBytes } from 'node:crypto'
import { setTimeout as sleep } from 'node:timers/promises'
import { PGlite } from '@electric-sql/pglite'
import { createSessions } from '@sessile/core'
import { pgliteStore } from '@sessile/drizzle/pglite'
import { aesGcm } from '@sessile/filters'
import { expiryNotifier } from '@sessile/notify'

const db = new PGlite() // in memory; the store uses it, and so do we, to show the raw row
const store = pgliteStore({ client: db })
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

const { rows } = await db.query(
  `select key, ref, length(data) as bytes, encode(substring(data from 1 for 24), 'hex') as head, expiry from sessions`,
)
const row = rows[0]
console.log('2. the row, as SQL sees it (select key, ref, data, expiry from sessions):')
console.log(`     key    ${row.key.slice(0, 24)}…   (an HMAC of the id, not the id)`)
console.log(`     ref    ${row.ref}`)
console.log(`     data   ${row.bytes} bytes, ${row.head}…   (AES-256-GCM; no "tea" in sight)`)
console.log(`     expiry ${row.expiry.toISOString()}   (the database's clock)`)

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
await db.close()
