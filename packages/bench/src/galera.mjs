/**
 * The session manager on a 3-node Galera cluster beside the same on one server, in slices that
 * take turns (this machine is noisy): requests per second, and conflicts and retries per 1,000
 * requests. Imports the BUILT packages: build first (`pnpm build`), and start the cluster
 * (`scripts/galera-cluster.sh start`).
 *
 * Contenders (each its own table, the same work):
 * - `one server`: the MariaDB service (SESSILE_MYSQL_URL, default 127.0.0.1:3306), no Galera;
 * - `one Galera node`: every request through node 1 (replication and certification still run);
 * - `3 nodes, sync wait`: requests spread round robin over three stores, one per node, with the
 *   default wsrep_sync_wait=1 (reads see every earlier commit of the cluster);
 * - `3 nodes, no sync wait`: the same with syncWait 0, to price the wait.
 * Workloads: `spread` (2,000 sessions, 32 workers, a request loads a random session and one in
 * five changes a field) and `hot` (the same on 8 sessions: many requests of one session at once).
 *
 * Environment: GALERA_PORT_BASE (13306), BENCH_SLICE_MS (3000), BENCH_ROUNDS (3).
 */
import { createSessions } from '@sessile/core'
import { mysqlStore } from '@sessile/drizzle/mysql'

const BASE = Number(process.env.GALERA_PORT_BASE ?? 13306)
const SINGLE = process.env.SESSILE_MYSQL_URL ?? 'mysql://root@127.0.0.1:3306/test'
const SLICE = Number(process.env.BENCH_SLICE_MS ?? 3000)
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3)
const WORKERS = 32
const node = (n) => `mysql://root@127.0.0.1:${BASE + n - 1}/test`
const table = `bench_galera_${process.pid}`

function contender(name, urls, more = {}) {
  const counts = { conflict: 0, lost: 0, 'not-ready': 0, unreachable: 0 }
  const stores = urls.map((url) =>
    mysqlStore({
      url,
      table: `${table}_${name.replace(/\W+/g, '_')}`,
      connectionLimit: Math.ceil(12 / urls.length),
      onRetry: (f) => {
        counts[f] = (counts[f] ?? 0) + 1
      },
      ...more,
    }),
  )
  const managers = stores.map((store) => createSessions({ store }))
  return { name, stores, managers, counts, results: {} }
}

const contenders = [
  contender('one server', [SINGLE]),
  contender('one Galera node', [node(1)]),
  contender('3 nodes, sync wait', [node(1), node(2), node(3)]),
  contender('3 nodes, no sync wait', [node(1), node(2), node(3)], { syncWait: 0 }),
]

async function seed(c, sessions) {
  const ids = []
  for (let i = 0; i < sessions; i++) {
    const m = c.managers[i % c.managers.length]
    const s = await m.create()
    s.data.user = `u${i}`
    s.data.n = 0
    ids.push((await m.commit(s)).id)
  }
  return ids
}

async function slice(c, ids, ms) {
  let requests = 0
  let errors = 0
  let next = 0
  const before = { ...c.counts }
  const end = performance.now() + ms
  await Promise.all(
    Array.from({ length: WORKERS }, async () => {
      while (performance.now() < end) {
        const m = c.managers[next++ % c.managers.length]
        const id = ids[Math.floor(Math.random() * ids.length)]
        try {
          const s = await m.load(id)
          if (s && Math.random() < 0.2) {
            s.data[`f${Math.floor(Math.random() * 8)}`] = requests
            await m.commit(s)
          }
          requests++
        } catch {
          errors++
        }
      }
    }),
  )
  const delta = Object.fromEntries(Object.entries(c.counts).map(([k, v]) => [k, v - (before[k] ?? 0)]))
  return { requests, errors, ms, retries: delta }
}

async function workload(label, sessions) {
  const idsOf = new Map()
  for (const c of contenders) idsOf.set(c, await seed(c, sessions))
  const totals = new Map(contenders.map((c) => [c, { requests: 0, errors: 0, ms: 0, conflict: 0, other: 0 }]))
  for (let round = 0; round < ROUNDS; round++) {
    // The order rotates every round, so no contender always runs first or last.
    const order = contenders.map((_, i) => contenders[(i + round) % contenders.length])
    for (const c of order) {
      const r = await slice(c, idsOf.get(c), SLICE)
      const t = totals.get(c)
      t.requests += r.requests
      t.errors += r.errors
      t.ms += r.ms
      t.conflict += r.retries.conflict
      t.other += r.retries.lost + r.retries['not-ready'] + r.retries.unreachable
    }
  }
  console.log(
    `\n${label}: ${sessions} sessions, ${WORKERS} workers, 1 in 5 requests writes, ${ROUNDS} × ${SLICE} ms each`,
  )
  console.log('| contender | req/s | conflicts retried / 1,000 req | other retries / 1,000 req | errors |')
  console.log('|---|---:|---:|---:|---:|')
  for (const c of contenders) {
    const t = totals.get(c)
    const per = (x) => ((x * 1000) / Math.max(1, t.requests)).toFixed(2)
    console.log(
      `| ${c.name} | ${Math.round((t.requests * 1000) / t.ms).toLocaleString('en-US')} | ${per(t.conflict)} | ${per(t.other)} | ${t.errors} |`,
    )
  }
}

try {
  await workload('spread', 2000)
  await workload('hot', 8)
} finally {
  for (const c of contenders) {
    await c.stores[0].clear().catch(() => {})
    for (const s of c.stores) await s.close().catch(() => {})
  }
  // Drop the tables through a store-independent connection.
  const mysql = (await import('mysql2/promise')).default
  for (const url of [SINGLE, node(1)]) {
    const conn = await mysql.createConnection({ uri: url }).catch(() => null)
    if (!conn) continue
    const [rows] = await conn.query('SHOW TABLES LIKE ?', [`${table}%`])
    for (const r of rows) await conn.query(`DROP TABLE \`${Object.values(r)[0]}\``)
    await conn.end()
  }
}
