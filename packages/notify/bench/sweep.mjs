// How long a sweep of 100,000 expired sessions takes, and what it does to the latency of
// concurrent session reads, on PostgreSQL and MariaDB/MySQL. Runs against the built packages:
//   pnpm --filter @sessile/notify build && pnpm --filter @sessile/notify bench
// Environment: SESSILE_PG_URL, SESSILE_MYSQL_URL, BENCH_ROWS (100000), BENCH_BATCH (500),
// BENCH_READERS (8), BENCH_LIVE (2000), BENCH_BASELINE_MS (3000).
import { randomBytes } from 'node:crypto'
import { performance } from 'node:perf_hooks'
import { createSessions } from '@sessile/core'
import { mysqlStore } from '@sessile/drizzle/mysql'
import { pgStore } from '@sessile/drizzle/pg'
import { expiryNotifier } from '@sessile/notify'
import mysql from 'mysql2/promise'
import postgres from 'postgres'

const PG_URL = process.env.SESSILE_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test'
const MYSQL_URL = process.env.SESSILE_MYSQL_URL ?? 'mysql://root@127.0.0.1:3306/test'
const ROWS = Number(process.env.BENCH_ROWS ?? 100_000)
const BATCH = Number(process.env.BENCH_BATCH ?? 500)
const READERS = Number(process.env.BENCH_READERS ?? 8)
const LIVE = Number(process.env.BENCH_LIVE ?? 2000)
const BASELINE_MS = Number(process.env.BENCH_BASELINE_MS ?? 3000)
const APP = 'sessile-notify-bench'

const quantile = (sorted, q) =>
  sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? Number.NaN
const ms = (n) => `${n.toFixed(2)} ms`

function summary(latencies) {
  const s = Float64Array.from(latencies).sort()
  return { n: s.length, p50: quantile(s, 0.5), p99: quantile(s, 0.99), max: s[s.length - 1] ?? Number.NaN }
}

/** Readers load random live sessions until `until()` says stop; resolves to their latencies. */
async function readLoad(sessions, ids, until) {
  const latencies = []
  const reader = async () => {
    while (!until()) {
      const id = ids[Math.floor(Math.random() * ids.length)]
      const t0 = performance.now()
      const s = await sessions.load(id)
      latencies.push(performance.now() - t0)
      if (s.isNew) throw new Error('a live session was not found: the benchmark is broken')
    }
  }
  await Promise.all(Array.from({ length: READERS }, reader))
  return latencies
}

async function sweepAll(sessions, rows = ROWS) {
  let notified = 0
  const notifier = expiryNotifier(sessions, {
    interval: false,
    batchSize: BATCH,
    maxBatches: 1_000_000,
    onExpire: () => {
      notified++
    },
  })
  const t0 = performance.now()
  const r = await notifier.sweep()
  const elapsed = performance.now() - t0
  await notifier.stop()
  if (r.expired !== rows || notified !== rows)
    throw new Error(`swept ${r.expired}, notified ${notified}, expected ${rows}`)
  return { elapsed, batches: r.batches }
}

async function run(name, { makeStore, seed, drop }) {
  const store = makeStore()
  try {
    await store.ensureSchema()
  } catch (e) {
    console.log(`\n${name}: unreachable, skipped (${e.message})`)
    await store.close().catch(() => {})
    return
  }
  const sessions = createSessions({ store, ref: (d) => d.userId ?? null, secret: randomBytes(32) })
  try {
    const ids = []
    for (let i = 0; i < LIVE; i += 100) {
      const chunk = await Promise.all(
        Array.from({ length: Math.min(100, LIVE - i) }, async (_, j) => {
          const s = sessions.create({ userId: `u${i + j}`, cart: [1, 2, 3] })
          await sessions.commit(s)
          return s.id
        }),
      )
      ids.push(...chunk)
    }

    // Warm-up: connections, prepared statements and caches, so the first figure is not a cold start.
    await seed(5000)
    await sweepAll(sessions, 5000)

    let t0 = performance.now()
    await seed(ROWS)
    const seedMs = performance.now() - t0
    const alone = await sweepAll(sessions)

    const stopAt = performance.now() + BASELINE_MS
    const base = summary(await readLoad(sessions, ids, () => performance.now() >= stopAt))

    await seed(ROWS)
    let sweeping = true
    const reads = readLoad(sessions, ids, () => !sweeping)
    t0 = performance.now()
    const during = await sweepAll(sessions).finally(() => {
      sweeping = false
    })
    const under = summary(await reads)

    console.log(
      `\n${name}: ${ROWS} expired rows, batchSize ${BATCH}, ${READERS} concurrent readers, ${LIVE} live sessions`,
    )
    console.log(`  seed (bulk insert)               ${ms(seedMs)}`)
    console.log(
      `  sweep, no other load             ${ms(alone.elapsed)}  (${alone.batches} batches, ${Math.round((ROWS / alone.elapsed) * 1000)} rows/s)`,
    )
    console.log(
      `  sweep, with concurrent reads     ${ms(during.elapsed)}  (${Math.round((ROWS / during.elapsed) * 1000)} rows/s)`,
    )
    console.log(
      `  reads, no sweep        p50 ${ms(base.p50)}  p99 ${ms(base.p99)}  max ${ms(base.max)}  (${base.n} reads)`,
    )
    console.log(
      `  reads, during sweep    p50 ${ms(under.p50)}  p99 ${ms(under.p99)}  max ${ms(under.max)}  (${under.n} reads)`,
    )
  } finally {
    await store.close()
    await drop()
  }
}

const pgTable = `notify_bench_${randomBytes(4).toString('hex')}`
const myTable = `notify_bench_${randomBytes(4).toString('hex')}`

const pgAdmin = () => postgres(PG_URL, { max: 1, onnotice: () => {}, connection: { application_name: APP } })

await run('PostgreSQL', {
  makeStore: () => pgStore({ url: PG_URL, table: pgTable, max: 10, applicationName: APP }),
  async seed(count) {
    const sql = pgAdmin()
    try {
      await sql.unsafe(
        `INSERT INTO "${pgTable}" (key, data, ref, created, modified, expiry, version)
         SELECT 'exp-' || g || '-' || md5(random()::text), '\\x01'::bytea,
                CASE WHEN g % 5 = 0 THEN NULL ELSE 'user-' || (g % 997) END,
                now() - interval '2 hours', now() - interval '2 hours', now() - interval '1 hour', 1
         FROM generate_series(1, $1::int) g`,
        [count],
      )
      await sql.unsafe(`ANALYZE "${pgTable}"`)
    } finally {
      await sql.end({ timeout: 5 })
    }
  },
  async drop() {
    const sql = pgAdmin()
    await sql.unsafe(`DROP TABLE IF EXISTS "${pgTable}"`).catch(() => {})
    await sql.end({ timeout: 5 })
  },
})

await run('MariaDB/MySQL', {
  makeStore: () => mysqlStore({ url: MYSQL_URL, table: myTable, connectionLimit: 10 }),
  async seed(count) {
    const conn = await mysql.createConnection({ uri: MYSQL_URL })
    try {
      const past = (h) => `UTC_TIMESTAMP(3) - INTERVAL ${h} HOUR`
      const salt = randomBytes(4).toString('hex')
      for (let start = 0; start < count; start += 2000) {
        const n = Math.min(2000, count - start)
        const tuples = []
        const params = []
        for (let j = 0; j < n; j++) {
          const i = start + j
          tuples.push(`(?, x'01', ?, ${past(2)}, ${past(2)}, ${past(1)}, 1)`)
          params.push(`exp-${salt}-${i}`, i % 5 === 0 ? null : `user-${i % 997}`)
        }
        await conn.query(
          `INSERT INTO \`${myTable}\` (\`key\`, data, ref, created, modified, expiry, version) VALUES ${tuples.join(',')}`,
          params,
        )
      }
      await conn.query(`ANALYZE TABLE \`${myTable}\``)
    } finally {
      await conn.end()
    }
  },
  async drop() {
    const conn = await mysql.createConnection({ uri: MYSQL_URL })
    await conn.query(`DROP TABLE IF EXISTS \`${myTable}\``).catch(() => {})
    await conn.end()
  },
})
