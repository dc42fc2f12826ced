// One HTTP contender in a child process of its own, so the server does not share an event loop
// with autocannon. Started by http.mjs with the contender in BENCH_CONTENDER; talks over IPC.
import { randomBytes } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import { createRequire } from 'node:module'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createSessions } from '@sessile/core'
import { mysqlStore } from '@sessile/drizzle/mysql'
import { pgStore } from '@sessile/drizzle/pg'
import { pgliteStore } from '@sessile/drizzle/pglite'
import { sqliteStore } from '@sessile/drizzle/sqlite'
import { expressStore } from '@sessile/express'
import { aesGcm, gzip } from '@sessile/filters'
import { redisStore } from '@sessile/redis'
import RedisStore from 'connect-redis'
import express from 'express'
import session from 'express-session'
import { sessionData } from './payload.mjs'
import { createCpsTable, dropRedisPrefix, mysqlPool, redisClient } from './store-contenders.mjs'
import { versionedConnectRedis } from './versioned-connect-redis.mjs'

const require = createRequire(import.meta.url)
const connectPgSimple = require('connect-pg-simple')
const expressMysqlSession = require('express-mysql-session')

const contender = process.env.BENCH_CONTENDER
const table = process.env.BENCH_TABLE
const pgUrl = process.env.BENCH_PG_URL
const poolSize = Number(process.env.BENCH_POOL)
const TTL = 30 * 60_000

let pool
let redis
let redisCommands = 0
const cleanups = []

/** A Redis client whose every command is counted: the commands per request of the Redis contenders. */
function countedRedis() {
  const client = redisClient()
  const send = client.sendCommand.bind(client)
  client.sendCommand = (command, stream) => {
    redisCommands++
    return send(command, stream)
  }
  return client
}

// 'sessile pg serialized' is 'sessile pg' in serialised mode (lease on the row), for the
// shared-session scenario.
const serialized = contender.endsWith(' serialized')
const base = serialized ? contender.slice(0, -' serialized'.length) : contender

function sessileOptions() {
  const filters = base.endsWith('+filters')
    ? [gzip(), aesGcm({ keys: { k1: randomBytes(32) }, current: 'k1' })]
    : []
  return { idleTimeout: TTL, filters, serialize: serialized ? { lease: '10s', wait: '60s' } : false }
}

async function makeStore() {
  switch (base) {
    case 'memory':
      return { store: new session.MemoryStore() }
    case 'connect-pg-simple': {
      const PgStore = connectPgSimple(session)
      await createCpsTable(pgUrl, table)
      const store = new PgStore({
        conObject: { connectionString: pgUrl, max: poolSize, application_name: 'sessile-bench' },
        tableName: table,
        pruneSessionInterval: false,
      })
      cleanups.push(() => store.close())
      return { store }
    }
    case 'express-mysql-session': {
      const MySQLStore = expressMysqlSession(session)
      pool = mysqlPool()
      const store = new MySQLStore(
        { clearExpired: false, schema: { tableName: table }, endConnectionOnClose: false },
        pool,
      )
      cleanups.push(() => store.close())
      return { store }
    }
    case 'sessile pg':
    case 'sessile pg+filters': {
      const sessions = createSessions({
        store: pgStore({ url: pgUrl, table, max: poolSize }),
        ...sessileOptions(),
      })
      cleanups.push(() => sessions.store.close())
      const store = expressStore(sessions)
      return { store, genid: store.genid }
    }
    case 'sessile mysql':
    case 'sessile mysql+filters': {
      pool = mysqlPool()
      const sessions = createSessions({ store: mysqlStore({ client: pool, table }), ...sessileOptions() })
      const store = expressStore(sessions)
      return { store, genid: store.genid }
    }
    case 'connect-redis':
    case 'connect-redis versioned': {
      redis = countedRedis()
      const prefix = `${table}:`
      const store =
        base === 'connect-redis'
          ? new RedisStore({ client: redis, prefix })
          : await versionedConnectRedis(redis, prefix)
      cleanups.push(async () => {
        await dropRedisPrefix(redis, prefix)
        redis.disconnect()
      })
      return { store }
    }
    case 'sessile redis': {
      redis = countedRedis()
      const sessions = createSessions({
        store: redisStore({ client: redis, prefix: `${table}:`, onWarning: false }),
        ...sessileOptions(),
      })
      cleanups.push(async () => {
        await sessions.store.clear()
        await sessions.store.close()
        redis.disconnect()
      })
      const store = expressStore(sessions)
      return { store, genid: store.genid }
    }
    // The embedded stores keep their database in a directory of this server, removed at stop.
    case 'sessile pglite':
    case 'sessile sqlite':
    case 'sessile libsql': {
      const dir = mkdtempSync(join(tmpdir(), 'sessile-bench-http-'))
      const made =
        base === 'sessile pglite'
          ? pgliteStore({ dataDir: join(dir, 'pglite'), table })
          : sqliteStore({
              path: join(dir, 'sessions.db'),
              table,
              driver: base === 'sessile libsql' ? 'libsql' : 'better-sqlite3',
            })
      const sessions = createSessions({ store: made, ...sessileOptions() })
      cleanups.push(async () => {
        await made.close()
        rmSync(dir, { recursive: true, force: true })
      })
      const store = expressStore(sessions)
      return { store, genid: store.genid }
    }
    default:
      throw new Error(`unknown contender ${contender}`)
  }
}

/** Com_* counters summed over every connection of our own pool (no one else's statements). */
async function mysqlCounters() {
  if (!pool) return null
  const p = pool.promise()
  const conns = await Promise.all(Array.from({ length: poolSize }, () => p.getConnection()))
  const total = {}
  const threads = []
  try {
    for (const c of conns) {
      threads.push(c.threadId)
      const [rows] = await c.query("SHOW SESSION STATUS LIKE 'Com\\_%'")
      for (const r of rows) total[r.Variable_name] = (total[r.Variable_name] ?? 0) + Number(r.Value)
    }
  } finally {
    for (const c of conns) c.release()
  }
  return { total, threads }
}

const { store, genid } = await makeStore()
let served = 0
const data = sessionData(400)
const app = express()
// Requests the server answered, for statements per request (autocannon's count misses in-flight ones).
app.use((_req, _res, next) => {
  served++
  next()
})
app.use(
  session({
    store,
    ...(genid ? { genid } : {}),
    secret: 'bench-secret-bench-secret-bench-secret',
    resave: false,
    saveUninitialized: false,
    cookie: { maxAge: TTL },
  }),
)
app.get('/login', (req, res) => {
  req.session.user = data.user
  req.session.cart = data.cart
  req.session.csrf = data.csrf
  req.session.hits = 0
  res.json({ ok: true })
})
// Read-only: uses the session, changes nothing.
app.get('/read', (req, res) => {
  if (!req.session.user) return res.status(401).json({ error: 'no session' })
  res.json({ user: req.session.user.id, items: req.session.cart.length })
})
// Changing: one counter per request.
app.get('/write', (req, res) => {
  if (!req.session.user) return res.status(401).json({ error: 'no session' })
  req.session.hits = (req.session.hits ?? 0) + 1
  res.json({ hits: req.session.hits })
})
app.get('/count', (req, res) => res.json({ hits: req.session.hits ?? null }))
app.use((error, _req, res, _next) => {
  if (process.env.BENCH_DEBUG) console.error(error)
  if (!res.headersSent) res.status(500).json({ error: String(error?.message ?? error) })
})

const server = app.listen(0, '127.0.0.1', async () => {
  const base = pool ? await mysqlCounters() : redis ? { redisCommands } : null
  process.send({ type: 'ready', port: server.address().port, counters: base })
})

process.on('message', async (msg) => {
  if (msg.type === 'counters') {
    process.send({ type: 'counters', counters: redis ? { redisCommands } : await mysqlCounters(), served })
  } else if (msg.type === 'stop') {
    server.close()
    server.closeAllConnections?.()
    for (const c of cleanups) await c().catch(() => {})
    if (pool) await pool.promise().end()
    process.send({ type: 'stopped', served })
    process.disconnect()
  }
})
