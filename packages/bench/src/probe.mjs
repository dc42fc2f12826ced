// CPU per request, read from /proc: where an HTTP contender's time goes (app process vs database
// server), with the contenders alternating window by window. A diagnostic, not a benchmark:
//
//   node src/probe.mjs [route] [contender ...]
//   PROBE_ROUNDS=6 PROBE_SECONDS=4 node src/probe.mjs /write 'express-mysql-session' 'sessile mysql'
//   PROBE_PROFILE=/tmp/prof node src/probe.mjs /write 'sessile mysql'   # adds V8 CPU profiles
//   PROBE_SESSIONS=32 node src/probe.mjs /read …   # sessions the connections share (/read: 1)
//   node src/probe.mjs /write 'connect-redis' 'connect-redis versioned' 'sessile redis'
//     # 'connect-redis versioned' (probe only): connect-redis whose SET is the least versioned
//     # write on Redis's clock, the share of a changing request that versioning alone costs
//
// Each window prints requests/s and, per request, the server process's CPU (user + system) and
// the database server's (every mariadbd, postgres or redis-server process). The database figure counts
// whatever else the server did meanwhile; alternate and compare medians.
import { fork } from 'node:child_process'
import { once } from 'node:events'
import { readdirSync, readFileSync } from 'node:fs'
import { setTimeout as sleep } from 'node:timers/promises'
import autocannon from 'autocannon'
import mysql from 'mysql2'
import postgres from 'postgres'
import { config } from './config.mjs'
import { DIAGNOSTIC_CONTENDERS, HTTP_CONTENDERS } from './http.mjs'
import { uniqueTable } from './ids.mjs'
import { median } from './stats.mjs'

const TICK_US = 1e6 / 100 // USER_HZ: /proc reports CPU time in ticks of 10 ms
const route = process.argv[2] ?? '/write'
const names = process.argv.length > 3 ? process.argv.slice(3) : ['express-mysql-session', 'sessile mysql']
const rounds = Number(process.env.PROBE_ROUNDS ?? 4)
const seconds = Number(process.env.PROBE_SECONDS ?? 4)
const profileDir = process.env.PROBE_PROFILE

function cpuOf(pid, which = 'both') {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
    const user = Number(fields[11])
    const system = Number(fields[12])
    return (which === 'user' ? user : which === 'system' ? system : user + system) * TICK_US
  } catch {
    return 0
  }
}

function pidsOf(command) {
  const out = []
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue
    try {
      if (readFileSync(`/proc/${entry}/comm`, 'utf8').trim() === command) out.push(Number(entry))
    } catch {}
  }
  return out
}

const dbCpu = (db) => {
  const server = { pg: 'postgres', mysql: 'mariadbd', redis: 'redis-server' }[db]
  const pids = server ? pidsOf(server) : []
  return pids.reduce((a, p) => a + cpuOf(p), 0)
}

async function start(contender, table) {
  const child = fork(new URL('./http-server.mjs', import.meta.url), {
    env: {
      ...process.env,
      BENCH_CONTENDER: contender.name,
      BENCH_TABLE: table,
      BENCH_PG_URL: config.pgUrl,
      BENCH_POOL: String(config.pool),
    },
    execArgv: profileDir ? ['--cpu-prof', `--cpu-prof-dir=${profileDir}`] : [],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  })
  const [msg] = await once(child, 'message')
  return { child, port: msg.port }
}

async function stop(server) {
  const exited = once(server.child, 'exit')
  const stopped = once(server.child, 'message')
  server.child.send({ type: 'stop' })
  const [msg] = await Promise.race([stopped, sleep(10_000).then(() => [{}])])
  await Promise.race([exited, sleep(10_000).then(() => server.child.kill())])
  return msg.served
}

async function dropTable(db, table) {
  if (db === 'pg') {
    const sql = postgres(config.pgUrl, { max: 1, onnotice: () => {} })
    await sql.unsafe(`DROP TABLE IF EXISTS "${table}"`).catch(() => {})
    await sql.end({ timeout: 5 })
  } else if (db === 'mysql') {
    const c = mysql.createPool({ uri: config.mysqlUrl, connectionLimit: 1 }).promise()
    await c.query(`DROP TABLE IF EXISTS \`${table}\``).catch(() => {})
    await c.end()
  }
}

const contenders = names.map((n) => {
  const c = [...HTTP_CONTENDERS, ...DIAGNOSTIC_CONTENDERS].find((x) => x.name === n)
  if (!c) throw new Error(`unknown contender ${n}`)
  return c
})

// One server per contender for the whole probe, so each window measures a warm process.
const servers = new Map()
for (const c of contenders) {
  const table = uniqueTable('bench_probe')
  const server = await start(c, table)
  const cookies = []
  const sessions = process.env.PROBE_SESSIONS
    ? Number(process.env.PROBE_SESSIONS)
    : route === '/read'
      ? 1
      : config.connections
  for (let i = 0; i < sessions; i++) {
    const res = await fetch(`http://127.0.0.1:${server.port}/login`)
    cookies.push(res.headers.get('set-cookie').split(';')[0])
  }
  let next = 0
  const setupClient = (client) => client.setHeaders({ cookie: cookies[next++ % cookies.length] })
  const url = `http://127.0.0.1:${server.port}${route}`
  await autocannon({ url, connections: config.connections, setupClient, duration: 2 })
  servers.set(c.name, { ...server, table, url, setupClient, db: c.db })
}

// MariaDB's own counters of the work a request caused (global: the probe runs alone).
const STATUS = [
  'Bytes_received',
  'Bytes_sent',
  'Handler_read_key',
  'Handler_update',
  'Handler_write',
  'Innodb_os_log_written',
  'Innodb_os_log_fsyncs',
  'Innodb_data_fsyncs',
  'Innodb_buffer_pool_write_requests',
]
const statusPool = contenders.some((c) => c.db === 'mysql')
  ? mysql.createPool({ uri: config.mysqlUrl, connectionLimit: 1 }).promise()
  : null
async function mysqlStatus() {
  if (!statusPool) return null
  const [rows] = await statusPool.query(
    `SHOW GLOBAL STATUS WHERE Variable_name IN (${STATUS.map((n) => `'${n}'`).join(', ')})`,
  )
  return Object.fromEntries(rows.map((r) => [r.Variable_name, Number(r.Value)]))
}

const figures = new Map(contenders.map((c) => [c.name, { rps: [], app: [], sys: [], db: [], status: [] }]))
for (let r = 0; r < rounds; r++) {
  const order = contenders.map((_, i) => contenders[(i + r) % contenders.length])
  for (const c of order) {
    const s = servers.get(c.name)
    const app0 = cpuOf(s.child.pid)
    const sys0 = cpuOf(s.child.pid, 'system')
    const db0 = dbCpu(s.db)
    const status0 = s.db === 'mysql' ? await mysqlStatus() : null
    const result = await autocannon({
      url: s.url,
      connections: config.connections,
      setupClient: s.setupClient,
      duration: seconds,
    })
    const n = result.requests.total
    const app = (cpuOf(s.child.pid) - app0) / n
    const sys = (cpuOf(s.child.pid, 'system') - sys0) / n
    const db = (dbCpu(s.db) - db0) / n
    if (status0) {
      const status1 = await mysqlStatus()
      figures
        .get(c.name)
        .status.push(Object.fromEntries(STATUS.map((k) => [k, (status1[k] - status0[k]) / n])))
    }
    const f = figures.get(c.name)
    f.rps.push(result.requests.average)
    f.app.push(app)
    f.sys.push(sys)
    f.db.push(db)
    console.log(
      `${c.name.padEnd(24)} ${route} ${Math.round(result.requests.average)} req/s  app ${app.toFixed(0)} µs (system ${sys.toFixed(0)})  db ${db.toFixed(0)} µs  non-2xx ${result.non2xx}`,
    )
  }
}
console.log('\nmedians')
for (const [name, f] of figures) {
  console.log(
    `${name.padEnd(24)} ${route} ${Math.round(median(f.rps))} req/s  app ${median(f.app).toFixed(0)} µs (system ${median(f.sys).toFixed(0)})  db ${median(f.db).toFixed(0)} µs`,
  )
}
for (const [name, f] of figures) {
  if (!f.status.length) continue
  const per = STATUS.map(
    (k) => `${k.replace(/^Innodb_/, '')} ${median(f.status.map((x) => x[k])).toFixed(2)}`,
  )
  console.log(`${name.padEnd(24)} MariaDB per request: ${per.join(', ')}`)
}
await statusPool?.end()
for (const [name, s] of servers) {
  console.log(`${name}: ${await stop(s)} requests served (pid ${s.child.pid})`)
  await dropTable(s.db, s.table)
}
