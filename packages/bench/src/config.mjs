// Every knob of the benchmark, read once from the environment so a run is reproducible from the
// command line that started it (the report prints these values).
const env = process.env
const quick = env.BENCH_QUICK === '1' || env.BENCH_QUICK === 'true'

const int = (name, fallback) => {
  const raw = env[name]
  if (raw === undefined || raw === '') return fallback
  const n = Number(raw)
  if (!Number.isInteger(n) || n < 0) throw new Error(`${name} must be a whole number (got ${raw})`)
  return n
}

const list = (name, fallback) =>
  (env[name] ?? fallback)
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)

export const config = {
  quick,
  pgUrl: env.SESSILE_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test',
  mysqlUrl: env.SESSILE_MYSQL_URL ?? 'mysql://root@127.0.0.1:3306/test',
  redisUrl: env.SESSILE_REDIS_URL ?? 'redis://127.0.0.1:6379/0',
  /** HTTP rounds: each warm server gets one window per round; medians are reported. */
  runs: int('BENCH_RUNS', quick ? 2 : 10),
  /** Rounds of the store operations (short windows, so more of them than HTTP runs). */
  opRuns: int('BENCH_OP_RUNS', quick ? 1 : 5),
  /** Milliseconds each store operation is measured per run and concurrency. */
  opMs: int('BENCH_OP_MS', quick ? 150 : 600),
  /** Slices each opMs window is cut into, alternating with the other contenders' slices. */
  opSlices: Math.max(1, int('BENCH_OP_SLICES', quick ? 1 : 4)),
  /** Seconds of each HTTP window. */
  httpSeconds: int('BENCH_HTTP_SECONDS', quick ? 1 : 2),
  /** Seconds each HTTP server is driven after start-up before its windows (reported apart). */
  warmupSeconds: int('BENCH_WARMUP_SECONDS', quick ? 1 : 5),
  /** Requests in the shared-session scenario (bounded by count, not time). */
  sharedRequests: int('BENCH_SHARED_REQUESTS', quick ? 500 : 2000),
  /** Rounds of the shared-session scenario per contender (medians are reported). */
  sharedRounds: int('BENCH_SHARED_ROUNDS', quick ? 1 : 3),
  /** Connections autocannon opens (and the store-op concurrency besides 1). */
  connections: int('BENCH_CONNECTIONS', 32),
  /** Pool size of every contender, so no contender wins by holding more connections. */
  pool: int('BENCH_POOL', 10),
  /** Sessions seeded per contender table before the store-op runs. */
  seed: int('BENCH_SEED', quick ? 500 : 2000),
  /** Which parts run: ops, http, shared. */
  parts: list('BENCH_PARTS', 'ops,http,shared'),
  /**
   * A built `sqlite.js` of another checkout of @sessile/drizzle: its store runs as one more SQLite
   * contender, interleaved with this build's, to measure a change before and after.
   */
  sqliteBaseline: env.BENCH_SQLITE_BASELINE || undefined,
  /** Another build's @sessile/redis entry (a path), run beside this one's with no target. */
  redisBaseline: env.BENCH_REDIS_BASELINE || undefined,
  /** Regex filter on contender names, e.g. BENCH_ONLY=pg */
  only: env.BENCH_ONLY ? new RegExp(env.BENCH_ONLY) : null,
  /** Where the report goes; empty string disables writing. */
  out: env.BENCH_OUT ?? new URL('../../../docs/benchmarks.md', import.meta.url).pathname,
}

export const SIZES = { '400B': 400, '16KB': 16 * 1024 }
