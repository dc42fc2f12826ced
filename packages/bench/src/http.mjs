// Over 300 lines on purpose: every HTTP contender's server start-up and statement counting sits
// beside the autocannon loop that interleaves them, so one file says how a req/s was measured.
// HTTP scenarios: Express 5 + express-session with each store, driven by autocannon with an
// existing session cookie. Statements per request are counted on the database side:
// - PostgreSQL: transactions (every statement here is its own) of a database created for this
//   run only, read from pg_stat_database after the server's pool has closed and flushed them;
// - MariaDB: SHOW SESSION STATUS Com_* summed over the server's own pool connections;
// - Redis: commands the server's own ioredis client sent (counted in the server process; the
//   machine's Redis is shared, so its server-wide counters would count others' commands).
// Just over 300 lines: the windows, the warm-up and the counting belong to one scenario loop.
import { fork } from 'node:child_process'
import { once } from 'node:events'
import { performance } from 'node:perf_hooks'
import { setTimeout as sleep } from 'node:timers/promises'
import autocannon from 'autocannon'
import mysql from 'mysql2'
import postgres from 'postgres'
import { config } from './config.mjs'
import { uniqueTable } from './ids.mjs'
import { READ_MANY } from './routes.mjs'
import { median, rotated } from './stats.mjs'

export const HTTP_CONTENDERS = [
  { name: 'connect-pg-simple', db: 'pg' },
  { name: 'sessile pg', db: 'pg' },
  { name: 'sessile pg+filters', db: 'pg' },
  { name: 'express-mysql-session', db: 'mysql' },
  { name: 'sessile mysql', db: 'mysql' },
  { name: 'sessile mysql+filters', db: 'mysql' },
  { name: 'connect-redis', db: 'redis' },
  { name: 'sessile redis', db: 'redis' },
  { name: 'memory', db: 'memory' },
  { name: 'sessile pglite', db: 'embedded' },
  { name: 'sessile sqlite', db: 'embedded' },
  { name: 'sessile libsql', db: 'embedded' },
]

/** Contenders for the probe only: diagnostics, not peers. */
export const DIAGNOSTIC_CONTENDERS = [{ name: 'connect-redis versioned', db: 'redis' }]

const STATEMENTS = [
  'select',
  'insert',
  'update',
  'delete',
  'delete_multi',
  'update_multi',
  'replace',
  'insert_select',
]

/** A PostgreSQL database of our own, so its transaction counter counts only our statements. */
async function privateDatabase(log) {
  const admin = postgres(config.pgUrl, { max: 1, onnotice: () => {} })
  const name = uniqueTable('sessile_bench')
  try {
    await admin.unsafe(`CREATE DATABASE "${name}"`)
    const url = new URL(config.pgUrl)
    url.pathname = `/${name}`
    return { admin, name, url: url.toString(), exact: true }
  } catch (error) {
    log(`cannot create a private database (${error.message}); PostgreSQL counts include other clients`)
    return { admin, name: new URL(config.pgUrl).pathname.slice(1), url: config.pgUrl, exact: false }
  }
}

async function dropDatabase(pg, log) {
  if (pg.exact)
    await pg.admin
      .unsafe(`DROP DATABASE IF EXISTS "${pg.name}"`)
      .catch((e) => log(`drop database: ${e.message}`))
  await pg.admin.end({ timeout: 5 })
}

async function pgXacts(pg) {
  const [row] =
    await pg.admin`SELECT (xact_commit + xact_rollback)::bigint AS n FROM pg_stat_database WHERE datname = ${pg.name}`
  return Number(row?.n ?? 0)
}

/** Stats of exited backends arrive shortly after they exit: wait until the counter holds still. */
async function settledXacts(pg) {
  let last = await pgXacts(pg)
  for (let i = 0; i < 40; i++) {
    await sleep(150)
    const n = await pgXacts(pg)
    if (n === last && i >= 2) return n
    last = n
  }
  return last
}

function sumStatements(before, after) {
  let n = 0
  for (const s of STATEMENTS) n += (after.total[`Com_${s}`] ?? 0) - (before.total[`Com_${s}`] ?? 0)
  return n
}

class Server {
  static async start(contender, table, pgUrl) {
    const child = fork(new URL('./http-server.mjs', import.meta.url), {
      env: {
        ...process.env,
        BENCH_CONTENDER: contender.name,
        BENCH_TABLE: table,
        BENCH_PG_URL: pgUrl,
        BENCH_POOL: String(config.pool),
      },
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    })
    const s = new Server(child)
    const [msg] = await Promise.race([
      once(child, 'message'),
      once(child, 'exit').then(() => {
        throw new Error(`${contender.name} server exited during start-up`)
      }),
    ])
    s.port = msg.port
    s.baseCounters = msg.counters
    return s
  }

  constructor(child) {
    this.child = child
  }

  async request(path, cookie) {
    const res = await fetch(`http://127.0.0.1:${this.port}${path}`, { headers: cookie ? { cookie } : {} })
    const body = await res.json()
    return { status: res.status, body, setCookie: res.headers.get('set-cookie') }
  }

  async ask(type) {
    const reply = once(this.child, 'message')
    this.child.send({ type })
    return (await reply)[0]
  }

  async stop() {
    const exited = once(this.child, 'exit')
    await this.ask('stop').catch(() => {})
    await Promise.race([exited, sleep(10_000).then(() => this.child.kill())])
  }
}

function cannon(opts) {
  return autocannon({ connections: config.connections, ...opts })
}

/** Log in once; the cookie of the session the server created. */
async function login(server, name) {
  const cookie = (await server.request('/login')).setCookie?.split(';')[0]
  if (!cookie) throw new Error(`${name}: login set no cookie`)
  return cookie
}

/** A contender's server on a table of its own; PostgreSQL contenders also get a database of their own, so its transaction counter is theirs. */
async function startCounted(contender, prefix, pg, log) {
  const own = contender.db === 'pg' ? await privateDatabase(log) : null
  const table = uniqueTable(prefix)
  const before = own ? await settledXacts(own) : 0
  const server = await Server.start(contender, table, own?.url ?? pg.url)
  return { contender, server, table, own, before }
}

/**
 * Stop a server of {@link startCounted} (after `measure`, given its counters and requests served)
 * and drop what it made; its statements per request, over the server's whole life.
 */
async function stopCounted(started, pg, log, measure) {
  const { contender, server, table, own, before } = started
  let counters
  let served = 0
  try {
    ;({ counters, served } = await measure())
  } finally {
    await server.stop()
    await dropTable(contender, table, own ?? pg)
  }
  let statements = Number.NaN
  if (own) {
    statements = ((await settledXacts(own)) - before) / served
    await dropDatabase(own, log)
  }
  if (contender.db === 'mysql') statements = sumStatements(server.baseCounters, counters) / served
  if (contender.db === 'redis')
    statements = (counters.redisCommands - server.baseCounters.redisCommands) / served
  return { statements, served }
}

/** A contender's server for one route: started, logged in and warmed up, then measured in windows. */
async function startLive(contender, path, sessions, pg, log) {
  const started = await startCounted(contender, 'bench_http', pg, log)
  const { server } = started
  const cookies = []
  for (let i = 0; i < sessions; i++) cookies.push(await login(server, contender.name))
  let next = 0
  const setupClient = (client) => client.setHeaders({ cookie: cookies[next++ % cookies.length] })
  const url = `http://127.0.0.1:${server.port}${path}`
  // The first seconds of a server's life include V8 compiling the hot path: reported apart.
  const warm =
    config.warmupSeconds > 0 ? await cannon({ url, setupClient, duration: config.warmupSeconds }) : null
  if (warm) log(`http ${contender.name} ${path}: warm-up ${Math.round(warm.requests.average)} req/s`)
  return { ...started, cookies, setupClient, url, warm, windows: [] }
}

/** One measured window of a live server. */
async function window(live, log) {
  const r = await cannon({ url: live.url, setupClient: live.setupClient, duration: config.httpSeconds })
  log(
    `http ${live.contender.name} ${live.url.slice(live.url.lastIndexOf('/'))}: ${Math.round(r.requests.average)} req/s, p99 ${r.latency.p99} ms`,
  )
  live.windows.push({
    reqPerSec: r.requests.average,
    p99: r.latency.p99,
    bad: r.non2xx + r.errors + r.timeouts,
  })
}

/** Check the session survived, count statements, stop the server and drop what it made. */
async function finishLive(live, pg, log) {
  const { contender, server } = live
  const { statements, served } = await stopCounted(live, pg, log, async () => {
    // Requests autocannon gave up on at the deadline still finish on the server.
    await sleep(300)
    const check = await server.request('/read', live.cookies[0])
    if (check.status !== 200) throw new Error(`${contender.name}: the session was lost during the run`)
    return server.ask('counters')
  })
  log(`http ${contender.name}: ${statements.toFixed(2)} statements/request over ${served} requests`)
  return statements
}

async function dropTable(contender, table, pg) {
  if (contender.db === 'pg') await pg.admin.unsafe(`DROP TABLE IF EXISTS "${table}"`).catch(() => {})
  if (contender.db === 'mysql') {
    const c = mysql.createPool({ uri: config.mysqlUrl, connectionLimit: 1 }).promise()
    await c.query(`DROP TABLE IF EXISTS \`${table}\``).catch(() => {})
    await c.end()
  }
}

/**
 * 32 connections on one session, each request adding one to the same counter: one round of one
 * contender, on a fresh server and table (a PostgreSQL database of its own, for its statements).
 */
async function sharedRun(contender, pg, log) {
  const started = await startCounted(contender, 'bench_shared', pg, log)
  const { server } = started
  let r
  let final
  let seconds = Number.NaN
  // The server's set-up (about ten statements) counts too, over 2,000 requests.
  const { statements } = await stopCounted(started, pg, log, async () => {
    const cookie = await login(server, contender.name)
    // autocannon ends a run bounded by count on its one-second tick: time to the last response.
    const t0 = performance.now()
    let last = t0
    r = await cannon({
      url: `http://127.0.0.1:${server.port}/write`,
      headers: { cookie },
      amount: config.sharedRequests,
      setupClient: (client) =>
        client.on('response', () => {
          last = performance.now()
        }),
    })
    seconds = (last - t0) / 1000
    const reply = await server.ask('counters')
    final = (await server.request('/count', cookie)).body.hits ?? 0
    return reply
  })
  const ok = r['2xx']
  const lost = ok - final
  const reqPerSec = r.requests.total / seconds
  log(
    `shared ${contender.name}: ${ok} increments acknowledged, counter ${final}, lost ${lost}, failed ${r.non2xx}, ${Math.round(reqPerSec)} req/s, p99 ${r.latency.p99} ms, ${statements.toFixed(2)} statements/request`,
  )
  return {
    ok,
    final,
    lost,
    lostShare: ok > 0 ? lost / ok : Number.NaN,
    failed: r.non2xx + r.errors,
    reqPerSec,
    p99: r.latency.p99,
    statements,
  }
}

/** Each contender's shared-session rounds (order rotating from round to round), as medians. */
async function sharedRounds(contenders, pg, log) {
  const runs = new Map(contenders.map((c) => [c.name, []]))
  for (let round = 0; round < config.sharedRounds; round++) {
    for (const c of rotated(contenders, round)) runs.get(c.name).push(await sharedRun(c, pg, log))
  }
  return contenders.map((c) => {
    const rs = runs.get(c.name)
    const m = (f) => median(rs.map(f))
    return {
      contender: c.name,
      rounds: rs.length,
      ok: m((x) => x.ok),
      final: m((x) => x.final),
      lost: m((x) => x.lost),
      lostShare: m((x) => x.lostShare),
      failed: rs.reduce((a, x) => a + x.failed, 0),
      reqPerSec: m((x) => x.reqPerSec),
      p99: m((x) => x.p99),
      statements: m((x) => x.statements),
    }
  })
}

export async function benchHttp(log, parts) {
  const pg = await privateDatabase(log)
  const contenders = HTTP_CONTENDERS.filter((c) => !config.only || config.only.test(c.name))
  const http = []
  const shared = []
  try {
    if (parts.includes('http')) {
      // Per route and database, the peer's and Sessile's servers are started once and warmed up,
      // then take turns in windows, in an order that rotates from round to round: a ratio compares
      // neighbouring windows of warm servers, and no contender always runs first.
      const groups = ['pg', 'mysql', 'redis', 'memory', 'embedded']
        .map((db) => contenders.filter((c) => c.db === db))
        .filter((g) => g.length > 0)
      for (const [route, path, sessions] of [
        ['read-only', '/read', 1],
        // The same reads, each connection on a session of its own: reads that go together then
        // fetch different rows (with one cookie, one row serves a whole batch).
        [READ_MANY, '/read', config.connections],
        ['changing', '/write', config.connections],
      ]) {
        for (const group of groups) {
          const lives = []
          try {
            for (const c of group) lives.push(await startLive(c, path, sessions, pg, log))
            for (let round = 0; round < config.runs; round++) {
              for (const live of rotated(lives, round)) await window(live, log)
            }
          } finally {
            for (const live of lives) {
              const statements = await finishLive(live, pg, log)
              const runs = live.windows
              http.push({
                contender: live.contender.name,
                db: live.contender.db,
                route,
                runs,
                reqPerSec: median(runs.map((x) => x.reqPerSec)),
                p99: median(runs.map((x) => x.p99)),
                warmReqPerSec: live.warm?.requests.average ?? Number.NaN,
                statements,
                bad: runs.reduce((a, x) => a + x.bad, 0),
              })
            }
          }
        }
      }
    }
    if (parts.includes('shared')) {
      // Sessile twice: its default mode, then its serialised mode (a lease on the session row).
      const sharedContenders = contenders.flatMap((c) =>
        c.name === 'sessile pg' || c.name === 'sessile mysql' || c.name === 'sessile redis'
          ? [c, { ...c, name: `${c.name} serialized` }]
          : [c],
      )
      shared.push(...(await sharedRounds(sharedContenders, pg, log)))
    }
  } finally {
    await dropDatabase(pg, log)
  }
  return { http, shared, exactPg: pg.exact }
}
