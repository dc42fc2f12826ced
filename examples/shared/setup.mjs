// Start-up shared by the examples: the store (a SQLite file with no configuration, or DATABASE_URL:
// a SQL database, PGlite or Redis), a check that it answers before the server listens, the
// manager, and the secret.
import { fileURLToPath } from 'node:url'
import { createSessions } from '@sessile/core'

const redact = (url) => url.replace(/\/\/([^:@/]+):[^@/]*@/, '//$1:***@')

async function openStore() {
  const url = process.env.DATABASE_URL
  if (!url) {
    // SQLite is the embedded default (docs/embedded-default.md): better-sqlite3 when it installed,
    // else libSQL. The three examples share the file; WAL lets them run at the same time.
    const { sqliteStore } = await import('@sessile/drizzle/sqlite')
    const path = process.env.SQLITE_PATH ?? fileURLToPath(new URL('./.data/sessions.db', import.meta.url))
    return { store: sqliteStore({ path }), where: `embedded SQLite (${path})` }
  }
  // SESSILE_TABLE lets tests share a database without sharing a table.
  const table = process.env.SESSILE_TABLE ?? 'sessions'
  if (/^rediss?:\/\//i.test(url)) {
    // Redis has no tables: the name becomes the prefix of the store's keys.
    const { createStore } = await import('@sessile/redis')
    return { store: createStore(url, { prefix: `${table}:` }), where: `${redact(url)}, keys ${table}:*` }
  }
  const { createStore } = await import('@sessile/drizzle')
  return { store: createStore(url, { table }), where: `${redact(url)}, table ${table}` }
}

/**
 * The secret signs cookies and makes the table hold HMACs of the ids. A fixed development value
 * keeps sessions across restarts on a laptop; it is refused in production.
 */
function secretOf(name) {
  const secret = process.env.SESSION_SECRET
  if (secret) return secret
  if (process.env.NODE_ENV === 'production') {
    console.error('SESSION_SECRET is not set: refusing to start with NODE_ENV=production.')
    console.error('Make one with: openssl rand -base64 32')
    process.exit(1)
  }
  console.warn(
    '\n  WARNING: SESSION_SECRET is not set; using a development secret that anyone can read.\n' +
      `  Set one before deploying: SESSION_SECRET=$(openssl rand -base64 32) pnpm --filter ${name} start\n`,
  )
  return `dev-only-${'x'.repeat(40)}`
}

/**
 * The manager every example uses. `serialize: true` runs the requests of one session one after
 * another, so the counter (a read-modify-write of one field) loses no increment under parallel
 * requests; the default merge keeps only changes to different fields.
 */
export async function setup(name) {
  const secret = secretOf(name)
  const { store, where } = await openStore()
  running.store = store
  try {
    await store.count()
  } catch (error) {
    console.error(`Cannot reach the session database, ${where}:\n  ${error.cause?.message ?? error.message}`)
    console.error(
      process.env.DATABASE_URL
        ? 'Start that database, or unset DATABASE_URL to use the embedded SQLite file.'
        : 'Is the directory of that file writable (SQLITE_PATH moves it)?',
    )
    await store.close().catch(() => {})
    process.exit(1)
  }
  const sessions = createSessions({
    store,
    secret,
    serialize: true,
    // The user id is stored beside each session, indexed: it powers the device list.
    ref: (data) => (typeof data.user === 'string' ? data.user : null),
    idleTimeout: '30m',
    absoluteTimeout: '12h',
  })
  return { sessions, store, where, secret }
}

// Ctrl-C or SIGTERM ends the process with exit code 0, also while it is still starting (opening a
// database can take a while): close the server if there is one, then the store.
const running = { server: undefined, store: undefined, stopping: false }
const stop = () => {
  if (running.stopping) return
  running.stopping = true
  const closeStore = () =>
    (running.store?.close() ?? Promise.resolve()).catch(() => {}).finally(() => process.exit(0))
  if (!running.server) return void closeStore()
  running.server.closeAllConnections?.()
  running.server.close(closeStore)
}
process.on('SIGINT', stop)
process.on('SIGTERM', stop)

/** Say where the app listens; from now on a stop closes the server before the store. */
export function serveUntilStopped({ server, store, name, port, where }) {
  running.server = server
  running.store = store
  console.log(`${name} example on http://localhost:${port}  (sessions in ${where}; Ctrl-C stops it)`)
}
