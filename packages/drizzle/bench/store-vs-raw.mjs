// Throughput of the SQL stores next to the same statements sent with the raw driver, on the running
// PostgreSQL and MySQL/MariaDB. Runs against the built package:
//   pnpm --filter @sessile/drizzle build && pnpm --filter @sessile/drizzle bench
// "raw" is what a hand-written store does: one prepared statement per operation, no checks.
import { randomBytes } from 'node:crypto'
import { performance } from 'node:perf_hooks'
import { mysqlStore } from '@sessile/drizzle/mysql'
import { pgStore } from '@sessile/drizzle/pg'
import mysql from 'mysql2/promise'
import postgres from 'postgres'

const PG_URL = process.env.SESSILE_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test'
const MYSQL_URL = process.env.SESSILE_MYSQL_URL ?? 'mysql://root@127.0.0.1:3306/test'
const OPS = Number(process.env.BENCH_OPS ?? 4000)
const CONCURRENCY = 8
const ROUNDS = 3
const HOUR = 3_600_000
const payload = randomBytes(600)
const keys = Array.from({ length: 500 }, () => randomBytes(16).toString('base64url'))

async function once(fn) {
  let i = 0
  const t0 = performance.now()
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (i < OPS) await fn(keys[i++ % keys.length])
    }),
  )
  return OPS / ((performance.now() - t0) / 1000)
}

// Rounds alternate between the two sides so that warm-up, autovacuum or a neighbour's load do not
// favour whichever runs second; the best round of each side is reported.
async function row(name, storeFn, rawFn) {
  await once(storeFn)
  await once(rawFn)
  let store = 0
  let raw = 0
  for (let r = 0; r < ROUNDS; r++) {
    raw = Math.max(raw, await once(rawFn))
    store = Math.max(store, await once(storeFn))
  }
  console.log(
    `${name.padEnd(16)} store ${store.toFixed(0).padStart(7)} ops/s   raw ${raw.toFixed(0).padStart(7)} ops/s   ratio ${(store / raw).toFixed(2)}x`,
  )
}

async function benchPg() {
  const table = `bench_${randomBytes(4).toString('hex')}`
  const store = pgStore({ url: PG_URL, table, max: CONCURRENCY })
  await store.ensureSchema()
  const sql = postgres(PG_URL, { max: CONCURRENCY, onnotice: () => {} })
  const t = `"${table}"`
  try {
    const upsert = `INSERT INTO ${t} (key, data, ref, created, modified, expiry, version)
      VALUES ($1, $2, $3, now(), now(), now() + $4 * interval '1 millisecond', 1)
      ON CONFLICT (key) DO UPDATE SET data = EXCLUDED.data, ref = EXCLUDED.ref, modified = EXCLUDED.modified,
        expiry = EXCLUDED.expiry, version = ${t}.version + 1 RETURNING version, expiry`
    const select = `SELECT data, ref, created, modified, expiry, version, now() AS now FROM ${t} WHERE key = $1 AND expiry > now()`
    console.log(`PostgreSQL (${OPS} ops, concurrency ${CONCURRENCY}, best of ${ROUNDS} alternating rounds)`)
    await row(
      'upsert (600 B)',
      (key) => store.write({ key, data: payload, ref: 'u', mode: 'upsert', ttl: HOUR }),
      (key) => sql.unsafe(upsert, [key, payload, 'u', HOUR], { prepare: true }),
    )
    await row(
      'read',
      (key) => store.read(key),
      (key) => sql.unsafe(select, [key], { prepare: true }),
    )
    await row(
      'touch',
      (key) => store.touch({ key, ttl: HOUR }),
      (key) =>
        sql.unsafe(
          `UPDATE ${t} SET expiry = now() + $2 * interval '1 millisecond' WHERE key = $1 AND expiry > now()`,
          [key, HOUR],
          {
            prepare: true,
          },
        ),
    )
  } finally {
    await sql.unsafe(`DROP TABLE IF EXISTS ${t}`)
    await sql.end()
    await store.close()
  }
}

async function benchMysql() {
  const table = `bench_${randomBytes(4).toString('hex')}`
  const store = mysqlStore({ url: MYSQL_URL, table, connectionLimit: CONCURRENCY })
  await store.ensureSchema()
  const pool = mysql.createPool({ uri: MYSQL_URL, connectionLimit: CONCURRENCY })
  const t = `\`${table}\``
  try {
    // What express-mysql-session style stores send: one upsert, no version or expiry coming back.
    const upsert = `INSERT INTO ${t} (\`key\`, data, ref, created, modified, expiry, version)
      VALUES (?, ?, ?, UTC_TIMESTAMP(3), UTC_TIMESTAMP(3), UTC_TIMESTAMP(3) + INTERVAL ? MICROSECOND, 1)
      ON DUPLICATE KEY UPDATE data = VALUES(data), ref = VALUES(ref), modified = VALUES(modified),
        expiry = VALUES(expiry), version = version + 1`
    const select = `SELECT data, ref, created, modified, expiry, version, UTC_TIMESTAMP(3) AS now FROM ${t}
      WHERE \`key\` = ? AND expiry > UTC_TIMESTAMP(3)`
    console.log(
      `MySQL/MariaDB (${OPS} ops, concurrency ${CONCURRENCY}, best of ${ROUNDS} alternating rounds)`,
    )
    await row(
      'upsert (600 B)',
      (key) => store.write({ key, data: payload, ref: 'u', mode: 'upsert', ttl: HOUR }),
      (key) => pool.execute(upsert, [key, payload, 'u', HOUR * 1000]),
    )
    await row(
      'read',
      (key) => store.read(key),
      (key) => pool.execute(select, [key]),
    )
    await row(
      'touch',
      (key) => store.touch({ key, ttl: HOUR }),
      (key) =>
        pool.execute(
          `UPDATE ${t} SET expiry = UTC_TIMESTAMP(3) + INTERVAL ? MICROSECOND WHERE \`key\` = ? AND expiry > UTC_TIMESTAMP(3)`,
          [HOUR * 1000, key],
        ),
    )
  } finally {
    await pool.query(`DROP TABLE IF EXISTS ${t}`)
    await pool.end()
    await store.close()
  }
}

await benchPg()
await benchMysql()
