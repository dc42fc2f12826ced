/**
 * Time: the manager decides expiry on the database's clock, never on the app's. The app's wall
 * clock (`Date`, which express-session, the drivers and any app code read) is skewed by ±10 minutes
 * against the database, while timers and `performance.now()` keep real time, as on a server whose
 * clock is simply set wrong. With idleTimeout 2 s and absoluteTimeout 4 s, over real HTTP on
 * PostgreSQL and MariaDB (run side by side):
 * - no session whose expiry has passed in the database is ever served;
 * - a session idle for 2 s is gone by 3 s at the latest, and stays alive while used every < 2 s;
 * - a session used continuously dies 4 s ± 1 s after its creation.
 */
import { performance } from 'node:perf_hooks'
import { setTimeout as sleep } from 'node:timers/promises'
import { createSessions, type SessionStore, type Sessions } from '@sessile/core'
import { MYSQL_URL, PG_URL, uniqueTable } from '@sessile/drizzle/testing'
import mysql from 'mysql2/promise'
import postgres from 'postgres'
import { afterAll, beforeAll, describe, it } from 'vitest'
import { Client, idOf, listen, type RunningApp, reliabilityApp } from '../src/app.js'
import { type Db as BaseDb, databases } from '../src/databases.js'
import { type Figure, figure } from '../src/figures.js'

const SECTION = 'Time'
const IDLE = 2000
const ABSOLUTE = 4000
const SKEW = 600_000
/** Idle probes: session i is left alone, then requested once, this long after its last use. */
const IDLE_PROBES = Array.from({ length: 18 }, (_, i) => 1500 + i * 100)
/** The continuously used session is requested this often. */
const BUSY_EVERY = 250

const RealDate = Date

/**
 * Skew this process's wall clock by `offset` ms: `Date.now()`, `new Date()` and `Date()` move;
 * `new Date(x)`, timers and `performance.now()` do not. Returns the function that puts it back.
 */
function skewClock(offset: number): () => void {
  globalThis.Date = new Proxy(RealDate, {
    construct: (target, args, newTarget) =>
      args.length === 0
        ? Reflect.construct(target, [target.now() + offset], newTarget)
        : Reflect.construct(target, args, newTarget),
    apply: (target) => new target(target.now() + offset).toString(),
    get: (target, prop, receiver) =>
      prop === 'now' ? () => target.now() + offset : Reflect.get(target, prop, receiver),
  })
  return () => {
    globalThis.Date = RealDate
  }
}

/** The database's clock and a row's times, ms since the epoch, read in one statement. */
interface RowClock {
  now: number
  /** null: no row. */
  created: number | null
  expiry: number | null
}

/** Looks at the session table directly, on the database's clock, with the store's own test. */
interface Checker {
  at(key: string): Promise<RowClock>
  close(): Promise<void>
}

/** Whether the row's expiry has passed (the store's own test: live while expiry > now); null: no row. */
const num = (v: unknown): number | null => (v === null || v === undefined ? null : Number(v))

const expiredAt = (r: RowClock): boolean | null => (r.expiry === null ? null : r.expiry <= r.now)

interface Db extends BaseDb {
  checker(table: string): Checker
}

const [pgDb, mysqlDb] = await databases(4)
const databases_: Db[] = [
  {
    ...pgDb,
    checker(table) {
      const sql = postgres(PG_URL, { max: 2, onnotice: () => {} })
      const t = `"${table.replace(/"/g, '""')}"`
      const epoch = (x: string) => `(extract(epoch FROM ${x}) * 1000)::float8`
      return {
        async at(key) {
          const [r] = await sql.unsafe(
            `SELECT ${epoch('n.now')} AS now, ${epoch('t.created')} AS created, ${epoch('t.expiry')} AS expiry
             FROM (SELECT date_trunc('milliseconds', now()) AS now) n LEFT JOIN ${t} t ON t.key = $1`,
            [key],
          )
          return { now: Number(r?.now), created: num(r?.created), expiry: num(r?.expiry) }
        },
        close: () => sql.end({ timeout: 1 }),
      }
    },
  },
  {
    ...mysqlDb,
    checker(table) {
      const pool = mysql.createPool({ uri: MYSQL_URL, connectionLimit: 2 })
      const ms = (x: string) => `(TIMESTAMPDIFF(MICROSECOND, '1970-01-01 00:00:00', ${x}) DIV 1000)`
      const t = `\`${table.replace(/`/g, '``')}\``
      return {
        async at(key) {
          const [rows] = await pool.query<mysql.RowDataPacket[]>(
            `SELECT ${ms('n.now')} AS now, ${ms('t.created')} AS created, ${ms('t.expiry')} AS expiry
             FROM (SELECT UTC_TIMESTAMP(3) AS now) n LEFT JOIN ${t} t ON t.\`key\` = ?`,
            [key],
          )
          const r = rows[0]
          return { now: Number(r?.now), created: num(r?.created), expiry: num(r?.expiry) }
        },
        close: () => pool.end(),
      }
    },
  },
]

interface Env {
  db: Db
  table: string
  store: SessionStore
  sessions: Sessions
  app: RunningApp
  check: Checker
}

interface Outcome {
  /** Date.now() − database clock at the start, ms. */
  skewSeen: number
  /** new Date() − database clock at the start, ms. */
  newDateSkew: number
  /** Requests made on a session whose row had already expired in the database. */
  expiredChecked: number
  /** Of those, requests that were served that session. */
  expiredServed: number
  /** Requests that did not answer 200. */
  failed: number
  /** Idle probes: database time since the session's last write, and whether it was still served. */
  idleProbes: { offset: number; alive: boolean }[]
  /** Sessions used every 1.4 s (reads and writes): alive at each use. */
  keptAlive: boolean[]
  /** Database time from the busy session's creation to the request that found it gone. */
  absoluteGone: number
}

interface Stored {
  c: Client
  user: string
  key: string
  /** The row's last write and creation, database clock. */
  lastWrite: number
  created: number
  /** performance.now() at the database time `lastWrite`. */
  lastWriteHere: number
}

/**
 * One clock skew on one database: the three expiry checks at once, then every session again.
 * Every time is measured on the database's clock (the reference the app must follow); the app's
 * own monotonic clock only schedules requests.
 */
async function scenario(env: Env): Promise<Outcome> {
  const { app, check, sessions } = env
  const dbNow = (await check.at('')).now
  const out: Outcome = {
    skewSeen: Date.now() - dbNow,
    // biome-ignore lint/complexity/useDateNow: this checks that `new Date()` itself is skewed.
    newDateSkew: new Date().getTime() - dbNow,
    expiredChecked: 0,
    expiredServed: 0,
    failed: 0,
    idleProbes: [],
    keptAlive: [],
    absoluteGone: Number.POSITIVE_INFINITY,
  }

  /** One request of a session: whether it was served (its `user`), checked against the table just before. */
  async function probe(s: Stored, route: '/data' | '/count' = '/data') {
    const row = await check.at(s.key)
    // /count on a gone session starts a new one: a clone keeps this client's cookie for later.
    const r = route === '/data' ? await s.c.call('GET', '/data') : await s.c.clone().call('GET', '/count')
    if (r.status !== 200) out.failed++
    const seen = route === '/data' ? (r.body.data as Record<string, unknown> | undefined)?.user : r.body.user
    const alive = seen === s.user
    if (expiredAt(row) !== false) {
      out.expiredChecked++
      if (alive) out.expiredServed++
    }
    return { alive, dbNow: row.now }
  }

  async function login(user: string): Promise<Stored> {
    const c = new Client(app.url)
    const r = await c.call('POST', `/login?user=${user}`)
    if (r.status !== 200 || !c.cookie) throw new Error(`login of ${user} failed: ${r.status}`)
    const key = sessions.keyOf(idOf(c.cookie))
    const before = performance.now()
    const row = await check.at(key)
    const here = (before + performance.now()) / 2
    if (row.expiry === null || row.created === null) throw new Error(`no row for ${user}`)
    // A new row expires idle after its write (the 4 s cap is further).
    const lastWrite = row.expiry - IDLE
    return { c, user, key, lastWrite, created: row.created, lastWriteHere: here - (row.now - lastWrite) }
  }

  const tag = Math.random().toString(36).slice(2, 6)
  const all: Stored[] = []

  const idle = (async () => {
    const logins = await Promise.all(IDLE_PROBES.map((_, i) => login(`${tag}idle${i}`)))
    all.push(...logins)
    out.idleProbes = await Promise.all(
      logins.map(async (s, i) => {
        await sleep(Math.max(0, s.lastWriteHere + (IDLE_PROBES[i] as number) - performance.now()))
        const p = await probe(s)
        return { offset: p.dbNow - s.lastWrite, alive: p.alive }
      }),
    )
  })()

  const kept = (async () => {
    const routes = ['/data', '/count'] as const
    await Promise.all(
      routes.map(async (route) => {
        const s = await login(`${tag}kept${route.slice(1)}`)
        all.push(s)
        for (let use = 1; use <= 2; use++) {
          await sleep(Math.max(0, s.lastWriteHere + use * 1400 - performance.now()))
          out.keptAlive.push((await probe(s, route)).alive)
        }
      }),
    )
  })()

  const busy = (async () => {
    const s = await login(`${tag}busy`)
    all.push(s)
    for (let n = 1; n * BUSY_EVERY < ABSOLUTE + 3000; n++) {
      await sleep(Math.max(0, s.lastWriteHere + n * BUSY_EVERY - performance.now()))
      const p = await probe(s)
      if (!p.alive) {
        out.absoluteGone = p.dbNow - s.created
        return
      }
    }
  })()

  await Promise.all([idle, kept, busy])

  // Every session again once its row has expired in the database (all are past the 4 s cap soon).
  const deadline = performance.now() + ABSOLUTE + 3000
  for (const s of all) {
    while (expiredAt(await check.at(s.key)) === false && performance.now() < deadline) await sleep(100)
    await probe(s, '/data')
    await probe(s, '/count')
    await probe(s, '/data')
  }
  return out
}

const envs = new Map<Db, Env>()

beforeAll(async () => {
  for (const db of databases_) {
    if (db.skip) continue
    const table = uniqueTable('time')
    const store = db.store(table)
    const sessions = createSessions({
      store,
      idleTimeout: IDLE,
      absoluteTimeout: ABSOLUTE,
      ref: (d) => (typeof d.user === 'string' ? d.user : null),
    })
    // Creates the table and opens a connection, so the first measured request is not the first.
    await sessions.count()
    envs.set(db, {
      db,
      table,
      store,
      sessions,
      app: await listen(reliabilityApp(sessions)),
      check: db.checker(table),
    })
  }
})

afterAll(async () => {
  for (const env of envs.values()) {
    await env.app.close()
    await env.store.close()
    await env.check.close()
    await env.db.drop(env.table)
  }
})

for (const skew of [SKEW, -SKEW]) {
  const label = `app clock ${skew > 0 ? '+' : '−'}10 min`
  describe(label, () => {
    // Recorded once the clock is back, so each figure's timestamp is real.
    const recorded: Figure[] = []
    afterAll(() => {
      for (const f of recorded) figure(f)
    })
    for (const db of databases_) {
      ;(db.skip ? it.skip : it.concurrent)(
        `${db.name}: expiry follows the database clock (idle 2 s, absolute 4 s)`,
        async ({ expect }) => {
          const env = envs.get(db) as Env
          // Both databases' scenarios run at once under one skew; the last to finish puts the clock back.
          const out = await skewed(skew, () => scenario(env))
          const where = `${label}, ${db.name}`
          const idleGone = Math.min(...out.idleProbes.filter((p) => !p.alive).map((p) => p.offset))
          const idleError = idleGone - IDLE
          const absoluteError = out.absoluteGone - ABSOLUTE
          const figures: Figure[] = [
            {
              section: SECTION,
              name: `app clock − database clock, ${where}`,
              value: Math.round(out.skewSeen),
              unit: 'ms',
              target: `${skew > 0 ? '+' : '−'}600,000 ± 2,000`,
            },
            {
              section: SECTION,
              name: `expired sessions served, ${where}`,
              value: out.expiredServed,
              target: '0',
            },
            {
              section: SECTION,
              name: `requests made on sessions already expired in the database, ${where}`,
              value: out.expiredChecked,
              target: '≥ 60',
            },
            {
              section: SECTION,
              name: `idle expiry error (idle 2 s: database time from the last write to the first request that found the session gone, − 2 s), ${where}`,
              value: Math.round(idleError),
              unit: 'ms',
              target: '|error| ≤ 1,000',
            },
            {
              section: SECTION,
              name: `absolute expiry error (absolute 4 s, session used every 250 ms: database time from creation to the first request that found it gone, − 4 s), ${where}`,
              value: Math.round(absoluteError),
              unit: 'ms',
              target: '|error| ≤ 1,000',
            },
          ]
          recorded.push(...figures)

          expect(Math.abs(out.skewSeen - skew)).toBeLessThan(2000)
          expect(Math.abs(out.newDateSkew - skew)).toBeLessThan(2000)
          expect(out.failed).toBe(0)
          expect(out.expiredServed).toBe(0)
          // 18 idle probes + 3 requests on each of 22 sessions, less the idle probes that came early.
          expect(out.expiredChecked).toBeGreaterThanOrEqual(60)
          // Not early: used < 2 s ago means alive; gone by 3 s at the latest.
          for (const p of out.idleProbes) {
            if (p.offset <= IDLE - 300) expect(p, 'idle session gone early').toMatchObject({ alive: true })
            if (p.offset >= IDLE + 1000)
              expect(p, 'idle session still served').toMatchObject({ alive: false })
          }
          expect(Math.abs(idleError)).toBeLessThanOrEqual(1000)
          expect(out.keptAlive).toEqual([true, true, true, true])
          expect(Math.abs(absoluteError)).toBeLessThanOrEqual(1000)
        },
      )
    }
  })
}

// The clock is process-wide: scenarios of one skew share it, and it goes back when the last ends.
let skewUsers = 0
let restore: (() => void) | null = null
async function skewed<R>(offset: number, run: () => Promise<R>): Promise<R> {
  if (skewUsers++ === 0) restore = skewClock(offset)
  try {
    return await run()
  } finally {
    if (--skewUsers === 0) {
      restore?.()
      restore = null
    }
  }
}
