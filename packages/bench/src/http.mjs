// HTTP scenarios: Express 5 + express-session with each store, driven by autocannon with an
// existing session cookie. Statements per request are counted on the database side:
// - PostgreSQL: transactions (every statement here is its own) of a database created for this
//   run only, read from pg_stat_database after the server's pool has closed and flushed them;
// - MariaDB: SHOW SESSION STATUS Com_* summed over the server's own pool connections.
import { fork } from 'node:child_process'
import { once } from 'node:events'
import { setTimeout as sleep } from 'node:timers/promises'
import autocannon from 'autocannon'
import mysql from 'mysql2'
import postgres from 'postgres'
import { config } from './config.mjs'
import { uniqueTable } from './ids.mjs'
import { median } from './stats.mjs'

export const HTTP_CONTENDERS = [
  { name: 'connect-pg-simple', db: 'pg' },
  { name: 'sessile pg', db: 'pg' },
  { name: 'sessile pg+filters', db: 'pg' },
  { name: 'express-mysql-session', db: 'mysql' },
  { name: 'sessile mysql', db: 'mysql' },
  { name: 'sessile mysql+filters', db: 'mysql' },
  { name: 'memory', db: 'memory' },
]

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

/**
 * One server life: log in, warm up, drive `path` for the run length, count statements.
 * `sessions` is how many sessions the connections share out: 1 puts every connection on one
 * cookie (the read-only route, as in the reference figures); one per connection is the
 * changing route, because 32 writers on one cookie is the shared-session scenario, reported apart.
 */
async function oneRun(contender, path, sessions, pg, log) {
  const table = uniqueTable('bench_http')
  const before = contender.db === 'pg' ? await settledXacts(pg) : 0
  const server = await Server.start(contender, table, pg.url)
  let result
  let counters
  let served = 0
  try {
    const cookies = []
    for (let i = 0; i < sessions; i++) cookies.push(await login(server, contender.name))
    let next = 0
    const setupClient = (client) => client.setHeaders({ cookie: cookies[next++ % cookies.length] })
    const url = `http://127.0.0.1:${server.port}${path}`
    if (config.warmupSeconds > 0) {
      await cannon({ url, setupClient, duration: config.warmupSeconds })
    }
    result = await cannon({ url, setupClient, duration: config.httpSeconds })
    // Requests autocannon gave up on at the deadline still finish on the server.
    await sleep(300)
    const check = await server.request('/read', cookies[0])
    if (check.status !== 200) throw new Error(`${contender.name}: the session was lost during the run`)
    const reply = await server.ask('counters')
    counters = reply.counters
    served = reply.served
  } finally {
    await server.stop()
    await dropTable(contender, table, pg)
  }
  let statements = Number.NaN
  if (contender.db === 'pg') statements = ((await settledXacts(pg)) - before) / served
  if (contender.db === 'mysql') statements = sumStatements(server.baseCounters, counters) / served
  log(
    `http ${contender.name} ${path}: ${Math.round(result.requests.average)} req/s, p99 ${result.latency.p99} ms, ` +
      `${statements.toFixed(2)} statements/request, non-2xx ${result.non2xx}, errors ${result.errors}`,
  )
  return {
    reqPerSec: result.requests.average,
    p99: result.latency.p99,
    statements,
    bad: result.non2xx + result.errors + result.timeouts,
  }
}

async function dropTable(contender, table, pg) {
  if (contender.db === 'pg') await pg.admin.unsafe(`DROP TABLE IF EXISTS "${table}"`).catch(() => {})
  if (contender.db === 'mysql') {
    const c = mysql.createPool({ uri: config.mysqlUrl, connectionLimit: 1 }).promise()
    await c.query(`DROP TABLE IF EXISTS \`${table}\``).catch(() => {})
    await c.end()
  }
}

/** 32 connections on one session, each request adding one to the same counter. */
async function sharedRun(contender, pg, log) {
  const table = uniqueTable('bench_shared')
  const server = await Server.start(contender, table, pg.url)
  try {
    const cookie = await login(server, contender.name)
    const r = await cannon({
      url: `http://127.0.0.1:${server.port}/write`,
      headers: { cookie },
      amount: config.sharedRequests,
    })
    const ok = r['2xx']
    const final = (await server.request('/count', cookie)).body.hits ?? 0
    const lost = ok - final
    log(
      `shared ${contender.name}: ${ok} increments acknowledged, counter ${final}, lost ${lost}, failed ${r.non2xx}`,
    )
    return {
      ok,
      final,
      lost,
      lostShare: ok > 0 ? lost / ok : Number.NaN,
      failed: r.non2xx + r.errors,
      reqPerSec: r.requests.average,
      p99: r.latency.p99,
    }
  } finally {
    await server.stop()
    await dropTable(contender, table, pg)
  }
}

export async function benchHttp(log, parts) {
  const pg = await privateDatabase(log)
  const contenders = HTTP_CONTENDERS.filter((c) => !config.only || config.only.test(c.name))
  const http = new Map()
  const shared = []
  try {
    if (parts.includes('http')) {
      // Each run and route goes database by database; within one, the peer and Sessile take turns
      // in an order that rotates from run to run, so a ratio compares neighbouring windows and no
      // contender always runs first (or right after the noisiest neighbour).
      const groups = ['pg', 'mysql', 'memory']
        .map((db) => contenders.filter((c) => c.db === db))
        .filter((g) => g.length > 0)
      for (let run = 1; run <= config.runs; run++) {
        for (const [route, path, sessions] of [
          ['read-only', '/read', 1],
          ['changing', '/write', config.connections],
        ]) {
          for (const group of groups) {
            const shift = (run - 1) % group.length
            for (const c of [...group.slice(shift), ...group.slice(0, shift)]) {
              const id = `${c.name}|${route}`
              if (!http.has(id)) http.set(id, { contender: c.name, db: c.db, route, runs: [] })
              http.get(id).runs.push(await oneRun(c, path, sessions, pg, log))
            }
          }
        }
      }
    }
    if (parts.includes('shared')) {
      // Sessile twice: its default mode, then its serialised mode (a lease on the session row).
      const sharedContenders = contenders.flatMap((c) =>
        c.name === 'sessile pg' || c.name === 'sessile mysql'
          ? [c, { ...c, name: `${c.name} serialized` }]
          : [c],
      )
      for (const c of sharedContenders) shared.push({ contender: c.name, ...(await sharedRun(c, pg, log)) })
    }
  } finally {
    if (pg.exact)
      await pg.admin
        .unsafe(`DROP DATABASE IF EXISTS "${pg.name}"`)
        .catch((e) => log(`drop database: ${e.message}`))
    await pg.admin.end({ timeout: 5 })
  }
  const rows = [...http.values()].map((r) => ({
    ...r,
    reqPerSec: median(r.runs.map((x) => x.reqPerSec)),
    p99: median(r.runs.map((x) => x.p99)),
    statements: median(r.runs.map((x) => x.statements)),
    bad: r.runs.reduce((a, x) => a + x.bad, 0),
  }))
  return { http: rows, shared, exactPg: pg.exact }
}
