// Over 300 lines on purpose: one contender after another (raw floor, peers, Sessile), each short,
// so their five operations can be compared side by side.
// The contenders of the store-operation benchmark. Each exposes the same five operations on a
// table of its own, through the API a user of that store would call:
// - raw: one hand-written parameterised query on a table of Sessile's shape (the floor),
// - peers: their express-session store API (get / set / touch / destroy),
// - Sessile: the SessionStore API (read / write / touch / destroy) and the manager (load / commit).
// Over 300 lines on purpose: every contender side by side, so a reader can check they do the same work.
import { mkdtempSync, rmSync } from 'node:fs'
import { createRequire } from 'node:module'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { PGlite } from '@electric-sql/pglite'
import { createSessions, encodeEnvelope, serialize } from '@sessile/core'
import { mysqlStore } from '@sessile/drizzle/mysql'
import { pgStore } from '@sessile/drizzle/pg'
import { pgliteStore } from '@sessile/drizzle/pglite'
import { sqliteStore } from '@sessile/drizzle/sqlite'
import { redisStore } from '@sessile/redis'
import Database from 'better-sqlite3'
import RedisStore from 'connect-redis'
import expressSession from 'express-session'
import { Redis } from 'ioredis'
import mysql from 'mysql2'
import postgres from 'postgres'
import { config } from './config.mjs'
import { uniqueTable } from './ids.mjs'
import { expressCookie } from './payload.mjs'

const require = createRequire(import.meta.url)
const connectPgSimple = require('connect-pg-simple')
const expressMysqlSession = require('express-mysql-session')

const TTL = 30 * 60_000
const MAX_AGE = 24 * 3_600_000
const APP = 'sessile-bench'

/** Callback store API to promises, rejecting on the error the store hands back. */
export const cb = (fn) =>
  new Promise((resolve, reject) => fn((error, value) => (error ? reject(error) : resolve(value))))

// The payload in each contender's own currency: bytes for stores that keep bytes, the object for
// stores that serialise it themselves.
async function payloadBytes(data) {
  return encodeEnvelope([], serialize(data), 'k', 16 * 1024 * 1024)
}

const pgRawDdl = (t) => [
  `CREATE TABLE ${t} ("key" text COLLATE "C" PRIMARY KEY NOT NULL, "data" bytea NOT NULL, "ref" text COLLATE "C",
    "created" timestamp (3) with time zone NOT NULL, "modified" timestamp (3) with time zone NOT NULL,
    "expiry" timestamp (3) with time zone NOT NULL, "version" integer NOT NULL, "lease" varchar(64),
    "lease_expiry" timestamp (3) with time zone)`,
  `CREATE INDEX ON ${t} ("ref")`,
  `CREATE INDEX ON ${t} ("expiry")`,
]

const pgRawSql = (t) => ({
  read: `SELECT data, ref, created, modified, expiry, version, now() AS now FROM ${t} WHERE key = $1 AND expiry > now()`,
  // An update writes new data to a live session and keeps its expiry, as Sessile's manager does
  // while the expiry would move by less than touchShare (keepExpiry).
  update: `UPDATE ${t} SET data = $2, modified = now(), version = version + 1 WHERE key = $1 AND expiry > now() RETURNING version, expiry`,
  insert: `INSERT INTO ${t} (key, data, ref, created, modified, expiry, version) VALUES ($1, $2, NULL, now(), now(), now() + interval '30 minutes', 1)`,
  touch: `UPDATE ${t} SET expiry = now() + interval '30 minutes' WHERE key = $1 AND expiry > now()`,
  destroy: `DELETE FROM ${t} WHERE key = $1`,
})

/** Raw postgres.js: the PostgreSQL floor. */
function rawPg() {
  const table = uniqueTable('bench_raw_pg')
  const sql = postgres(config.pgUrl, {
    max: config.pool,
    onnotice: () => {},
    connection: { application_name: APP },
  })
  const q = pgRawSql(`"${table}"`)
  let bytes
  return {
    name: 'raw postgres.js',
    db: 'pg',
    kind: 'raw',
    async setup(data) {
      for (const s of pgRawDdl(`"${table}"`)) await sql.unsafe(s)
      bytes = Buffer.from(await payloadBytes(data))
    },
    read: (key) => sql.unsafe(q.read, [key], { prepare: true }),
    update: (key) => sql.unsafe(q.update, [key, bytes], { prepare: true }),
    insert: (key) => sql.unsafe(q.insert, [key, bytes], { prepare: true }),
    touch: (key) => sql.unsafe(q.touch, [key], { prepare: true }),
    destroy: (key) => sql.unsafe(q.destroy, [key], { prepare: true }),
    async close() {
      await sql.unsafe(`DROP TABLE IF EXISTS "${table}"`).catch(() => {})
      await sql.end({ timeout: 5 })
    },
  }
}

/** Raw PGlite: the floor for the embedded store. */
function rawPglite() {
  const table = uniqueTable('bench_raw_pglite')
  const q = pgRawSql(`"${table}"`)
  let db
  let bytes
  return {
    name: 'raw PGlite',
    db: 'pglite',
    kind: 'raw',
    async setup(data) {
      db = await PGlite.create()
      for (const s of pgRawDdl(`"${table}"`)) await db.query(s)
      bytes = Buffer.from(await payloadBytes(data))
    },
    read: (key) => db.query(q.read, [key]),
    update: (key) => db.query(q.update, [key, bytes]),
    insert: (key) => db.query(q.insert, [key, bytes]),
    touch: (key) => db.query(q.touch, [key]),
    destroy: (key) => db.query(q.destroy, [key]),
    close: () => db?.close(),
  }
}

// A hand-written SQLite store: epoch-ms INTEGER times from unixepoch('subsec') (SQLite 3.42+).
const sqliteRawSql = (t) => {
  const now = "CAST(unixepoch('subsec') * 1000 AS INTEGER)"
  return {
    ddl: [
      `CREATE TABLE ${t} ("key" text PRIMARY KEY NOT NULL, "data" blob NOT NULL, "ref" text, "created" integer NOT NULL,
        "modified" integer NOT NULL, "expiry" integer NOT NULL, "version" integer NOT NULL, "lease" text, "lease_expiry" integer)`,
      `CREATE INDEX "${t.slice(1, -1)}_ref" ON ${t} ("ref")`,
      `CREATE INDEX "${t.slice(1, -1)}_expiry" ON ${t} ("expiry")`,
    ],
    read: `SELECT data, ref, created, modified, expiry, version, ${now} AS now FROM ${t} WHERE key = ? AND expiry > ${now}`,
    update: `UPDATE ${t} SET data = ?, modified = ${now}, version = version + 1 WHERE key = ? AND expiry > ${now} RETURNING version, expiry`,
    insert: `INSERT INTO ${t} (key, data, ref, created, modified, expiry, version) VALUES (?, ?, NULL, ${now}, ${now}, ${now} + 1800000, 1)`,
    touch: `UPDATE ${t} SET expiry = ${now} + 1800000 WHERE key = ? AND expiry > ${now}`,
    destroy: `DELETE FROM ${t} WHERE key = ?`,
  }
}

// SQLite files live in one directory of the run, removed by the last contender that closes.
let sqliteDir
const sqliteFile = (name) => {
  sqliteDir ??= mkdtempSync(join(tmpdir(), 'sessile-bench-'))
  return join(sqliteDir, `${name}.db`)
}
let sqliteOpen = 0
const sqliteDone = () => {
  if (--sqliteOpen === 0 && sqliteDir) {
    rmSync(sqliteDir, { recursive: true, force: true })
    sqliteDir = undefined
  }
}

const baselineSqliteStore = config.sqliteBaseline
  ? (await import(config.sqliteBaseline)).sqliteStore
  : undefined

const baselineRedisStore = config.redisBaseline ? (await import(config.redisBaseline)).redisStore : undefined

/** Raw better-sqlite3 prepared statements on a WAL file (the settings the store uses): the SQLite floor. */
function rawSqlite() {
  const table = uniqueTable('bench_raw_sqlite')
  const q = sqliteRawSql(`"${table}"`)
  let db
  let st
  let bytes
  return {
    name: 'raw better-sqlite3',
    db: 'sqlite',
    kind: 'raw',
    async setup(data) {
      sqliteOpen++
      db = new Database(sqliteFile(table), { timeout: 5000 })
      db.pragma('journal_mode = WAL')
      db.pragma('synchronous = NORMAL')
      for (const s of q.ddl) db.exec(s)
      st = Object.fromEntries(
        ['read', 'update', 'insert', 'touch', 'destroy'].map((k) => [k, db.prepare(q[k])]),
      )
      bytes = Buffer.from(await payloadBytes(data))
    },
    read: (key) => st.read.all(key),
    update: (key) => st.update.all(bytes, key),
    insert: (key) => st.insert.run(key, bytes),
    touch: (key) => st.touch.run(key),
    destroy: (key) => st.destroy.run(key),
    async close() {
      if (!db) return
      db.close()
      sqliteDone()
    },
  }
}

const sqliteS =
  (driver, open = sqliteStore) =>
  () => {
    const table = uniqueTable(`bench_sessile_${driver === 'libsql' ? 'libsql' : 'sqlite'}`)
    sqliteOpen++
    const store = open({ path: sqliteFile(table), table, driver })
    const close = store.close.bind(store)
    store.close = async () => {
      await close()
      sqliteDone()
    }
    return store
  }

const mysqlRawSql = (t) => {
  const now = 'UTC_TIMESTAMP(3)'
  return {
    ddl: `CREATE TABLE ${t} (\`key\` varbinary(255) NOT NULL, \`data\` longblob NOT NULL, \`ref\` varbinary(1020),
      \`created\` datetime(3) NOT NULL, \`modified\` datetime(3) NOT NULL, \`expiry\` datetime(3) NOT NULL,
      \`version\` int NOT NULL, \`lease\` varchar(64), \`lease_expiry\` datetime(3),
      PRIMARY KEY (\`key\`), INDEX \`ref_idx\` (\`ref\`), INDEX \`expiry_idx\` (\`expiry\`))`,
    read: `SELECT data, ref, created, modified, expiry, version, ${now} AS now FROM ${t} WHERE \`key\` = ? AND expiry > ${now}`,
    update: `UPDATE ${t} SET data = ?, modified = ${now}, version = version + 1 WHERE \`key\` = ? AND expiry > ${now}`,
    insert: `INSERT INTO ${t} (\`key\`, data, ref, created, modified, expiry, version) VALUES (?, ?, NULL, ${now}, ${now}, ${now} + INTERVAL 30 MINUTE, 1)`,
    touch: `UPDATE ${t} SET expiry = ${now} + INTERVAL 30 MINUTE WHERE \`key\` = ? AND expiry > ${now}`,
    destroy: `DELETE FROM ${t} WHERE \`key\` = ?`,
  }
}

export function mysqlPool() {
  const pool = mysql.createPool({ uri: config.mysqlUrl, connectionLimit: config.pool, enableKeepAlive: true })
  pool.on('connection', (c) => c.on('error', () => {}))
  return pool
}

/** Raw mysql2 prepared statements: the MySQL/MariaDB floor. */
function rawMysql() {
  const table = uniqueTable('bench_raw_my')
  const pool = mysqlPool()
  const p = pool.promise()
  const q = mysqlRawSql(`\`${table}\``)
  let bytes
  return {
    name: 'raw mysql2',
    db: 'mysql',
    kind: 'raw',
    async setup(data) {
      await p.query(q.ddl)
      bytes = Buffer.from(await payloadBytes(data))
    },
    read: (key) => p.execute(q.read, [key]),
    update: (key) => p.execute(q.update, [bytes, key]),
    insert: (key) => p.execute(q.insert, [key, bytes]),
    touch: (key) => p.execute(q.touch, [key]),
    destroy: (key) => p.execute(q.destroy, [key]),
    async close() {
      await p.query(`DROP TABLE IF EXISTS \`${table}\``).catch(() => {})
      await p.end()
    },
  }
}

/** A client on the machine's Redis for one contender (one connection each, as each would have). */
export const redisClient = () => new Redis(config.redisUrl, { maxRetriesPerRequest: 3 })

/** Delete every key under `prefix` (SCAN + UNLINK), never FLUSHDB: the Redis is shared. */
export async function dropRedisPrefix(client, prefix) {
  let cursor = '0'
  do {
    const [next, keys] = await client.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000)
    cursor = next
    if (keys.length > 0) await client.unlink(...keys)
  } while (cursor !== '0')
}

/**
 * Raw ioredis: the Redis floor. One command per operation on a plain string key, the shape
 * connect-redis keeps: GET; SET XX KEEPTTL (an update of a live session keeping its expiry);
 * SET NX PX (insert); PEXPIRE XX (touch of a live one); DEL.
 */
function rawRedis() {
  const prefix = `${uniqueTable('bench_raw_redis')}:`
  // Connected in setup: contenders of other databases are made and filtered out, never closed.
  let client
  let bytes
  return {
    name: 'raw ioredis',
    db: 'redis',
    kind: 'raw',
    async setup(data) {
      client = redisClient()
      bytes = Buffer.from(await payloadBytes(data))
    },
    read: (key) => client.getBuffer(prefix + key),
    update: (key) => client.set(prefix + key, bytes, 'XX', 'KEEPTTL'),
    insert: (key) => client.set(prefix + key, bytes, 'PX', TTL, 'NX'),
    touch: (key) => client.pexpire(prefix + key, TTL, 'XX'),
    destroy: (key) => client.del(prefix + key),
    async close() {
      if (!client) return
      await dropRedisPrefix(client, prefix).catch(() => {})
      client.disconnect()
    },
  }
}

/**
 * connect-pg-simple's table.sql, with index names made unique: its own names a fixed
 * "session_pkey", which collides as soon as two of its tables share a schema.
 */
export async function createCpsTable(url, table) {
  const sql = postgres(url, { max: 1, onnotice: () => {} })
  try {
    await sql.unsafe(`CREATE TABLE "${table}" ("sid" varchar NOT NULL COLLATE "default", "sess" json NOT NULL,
      "expire" timestamp(6) NOT NULL, CONSTRAINT "${table}_pkey" PRIMARY KEY ("sid"))`)
    await sql.unsafe(`CREATE INDEX "${table}_expire" ON "${table}" ("expire")`)
  } finally {
    await sql.end({ timeout: 5 })
  }
}

/** A peer through its express-session store API, exactly as express-session calls it. */
function peer(name, db, make) {
  let store
  let base
  let drop
  let end
  const sess = (n) => ({ cookie: expressCookie(TTL), ...base, n })
  return {
    name,
    db,
    kind: 'peer',
    async setup(data) {
      ;({ store, drop, end } = await make())
      base = data
    },
    read: (key) => cb((done) => store.get(key, done)),
    update: (key, n) => cb((done) => store.set(key, sess(n), done)),
    insert: (key) => cb((done) => store.set(key, sess(0), done)),
    touch: (key) => cb((done) => store.touch(key, sess(0), done)),
    destroy: (key) => cb((done) => store.destroy(key, done)),
    async close() {
      await drop().catch(() => {})
      await end()
    },
  }
}

function connectPg() {
  return peer('connect-pg-simple', 'pg', async () => {
    const PgStore = connectPgSimple(expressSession)
    const table = uniqueTable('bench_cps')
    await createCpsTable(config.pgUrl, table)
    const store = new PgStore({
      conObject: { connectionString: config.pgUrl, max: config.pool, application_name: APP },
      tableName: table,
      pruneSessionInterval: false,
    })
    return {
      store,
      drop: () => cb((done) => store.query(`DROP TABLE IF EXISTS "${table}"`, [], done)),
      end: () => store.close(),
    }
  })
}

function expressMysql() {
  return peer('express-mysql-session', 'mysql', async () => {
    const MySQLStore = expressMysqlSession(expressSession)
    const table = uniqueTable('bench_ems')
    const pool = mysqlPool()
    const store = new MySQLStore(
      {
        clearExpired: false,
        createDatabaseTable: true,
        schema: { tableName: table },
        endConnectionOnClose: false,
      },
      pool,
    )
    await store.onReady()
    return {
      store,
      drop: () => pool.promise().query(`DROP TABLE IF EXISTS \`${table}\``),
      end: async () => {
        await store.close()
        await pool.promise().end()
      },
    }
  })
}

function connectRedis() {
  return peer('connect-redis', 'redis', async () => {
    const client = redisClient()
    const prefix = `${uniqueTable('bench_cr')}:`
    const store = new RedisStore({ client, prefix })
    return {
      store,
      drop: () => dropRedisPrefix(client, prefix),
      end: async () => client.disconnect(),
    }
  })
}

/** Sessile through the SessionStore contract: what every adapter drives. */
function sessileStore(name, db, makeStore) {
  let store
  let bytes
  // Updates keep the expiry, as the manager asks while it would move by less than touchShare.
  const w = (key, mode) =>
    store.write({
      key,
      data: bytes,
      ref: null,
      mode,
      ttl: TTL,
      maxAge: MAX_AGE,
      keepExpiry: mode === 'update',
    })
  return {
    name,
    db,
    kind: 'sessile',
    async setup(data) {
      store = makeStore()
      await store.ensureSchema?.()
      bytes = await payloadBytes(data)
    },
    read: (key) => store.read(key),
    update: (key) => w(key, 'update'),
    insert: (key) => w(key, 'insert'),
    touch: (key) => store.touch({ key, ttl: TTL, maxAge: MAX_AGE }),
    destroy: (key) => store.destroy(key),
    async close() {
      await store.clear().catch(() => {})
      await dropSessileTable(store)
      await store.close()
    },
  }
}

/**
 * Sessile through the manager (load / commit): the same path every framework adapter takes, with
 * JSON (de)serialisation, the envelope, dirty checking and the version check included.
 */
function sessileManager(name, db, makeStore) {
  let sessions
  let base
  // Sessions loaded once before the timed update/touch phases, as a request would hold them.
  const held = new Map()
  let writes = 0
  return {
    name,
    db,
    kind: 'manager',
    async setup(data) {
      const store = makeStore()
      await store.ensureSchema?.()
      sessions = createSessions({ store, idleTimeout: TTL, absoluteTimeout: MAX_AGE })
      base = data
    },
    async prepare(keys) {
      for (const key of keys) if (!held.has(key)) held.set(key, await sessions.load(key))
    },
    read: (key) => sessions.load(key),
    async update(key) {
      const s = held.get(key)
      // A value never used before, so every commit really changes the session.
      s.set('n', ++writes)
      const r = await sessions.commit(s)
      if (r.write !== 'update') throw new Error(`manager update wrote ${r.write}`)
    },
    async insert() {
      const s = sessions.create({ ...base })
      await sessions.commit(s)
      return s.id
    },
    async touch(key) {
      const r = await sessions.commit(held.get(key).touch())
      if (r.write === 'none' && r.cookie === 'clear') throw new Error('manager touch lost the session')
    },
    destroy: (key) => sessions.destroy(key),
    seed: (key) => {
      const s = sessions.create({ ...base })
      s.id = key
      return sessions.commit(s)
    },
    async close() {
      held.clear()
      await sessions.store.clear().catch(() => {})
      await dropSessileTable(sessions.store)
      await sessions.store.close()
    },
  }
}

async function dropSessileTable(store) {
  // The store has no DROP; clear() emptied it and the table is dropped through a short connection.
  if (store.name === 'pg') {
    const sql = postgres(config.pgUrl, { max: 1, onnotice: () => {} })
    await sql.unsafe(`DROP TABLE IF EXISTS "${store.table}"`).catch(() => {})
    await sql.end({ timeout: 5 })
  } else if (store.name === 'mysql') {
    const pool = mysql.createPool({ uri: config.mysqlUrl, connectionLimit: 1 })
    await pool
      .promise()
      .query(`DROP TABLE IF EXISTS \`${store.table}\``)
      .catch(() => {})
    await pool.promise().end()
  }
}

const pgS = () => pgStore({ url: config.pgUrl, table: uniqueTable('bench_sessile_pg'), max: config.pool })
// The store's own client has the same settings as the raw and connect-redis ones (one connection,
// maxRetriesPerRequest 3).
const redisS =
  (make = redisStore) =>
  () =>
    make({ url: config.redisUrl, prefix: `${uniqueTable('bench_sessile_redis')}:`, onWarning: false })
const myS = () =>
  mysqlStore({ url: config.mysqlUrl, table: uniqueTable('bench_sessile_my'), connectionLimit: config.pool })

/** Every contender, in the order they run (grouped by database so ratios compare neighbours). */
export function storeContenders() {
  return [
    rawPg(),
    connectPg(),
    sessileStore('Sessile pg (store)', 'pg', pgS),
    sessileManager('Sessile pg (manager)', 'pg', pgS),
    rawMysql(),
    expressMysql(),
    sessileStore('Sessile mysql (store)', 'mysql', myS),
    sessileManager('Sessile mysql (manager)', 'mysql', myS),
    rawRedis(),
    connectRedis(),
    sessileStore('Sessile redis (store)', 'redis', redisS()),
    sessileManager('Sessile redis (manager)', 'redis', redisS()),
    ...(baselineRedisStore
      ? [
          {
            ...sessileStore('Sessile redis (store, baseline build)', 'redis', redisS(baselineRedisStore)),
            kind: 'baseline',
          },
        ]
      : []),
    rawPglite(),
    sessileStore('Sessile PGlite (store)', 'pglite', () =>
      pgliteStore({ table: uniqueTable('bench_sessile_pgl') }),
    ),
    rawSqlite(),
    sessileStore('Sessile SQLite (store, better-sqlite3)', 'sqlite', sqliteS('better-sqlite3')),
    { ...sessileStore('Sessile SQLite (store, libSQL)', 'sqlite', sqliteS('libsql')), kind: 'libsql' },
    ...(baselineSqliteStore
      ? [
          {
            ...sessileStore(
              'Sessile SQLite (store, baseline build)',
              'sqlite',
              sqliteS('better-sqlite3', baselineSqliteStore),
            ),
            kind: 'baseline',
          },
        ]
      : []),
  ]
}
