// `pnpm bench`: every scenario, contender after contender, then the report on stdout and in
// docs/benchmarks.md (between the results markers, so the hand-written reference around them stays).
import { execSync } from 'node:child_process'
import { existsSync, readFileSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import mysql from 'mysql2/promise'
import postgres from 'postgres'
import { config } from './config.mjs'
import { benchHttp } from './http.mjs'
import { benchMemoryChild, memorySummary } from './memory.mjs'
import { httpSection, sharedSection, storeOpsSection, targetsSection } from './report.mjs'
import { benchStoreOps } from './store-ops.mjs'

const START = '<!-- results:start -->'
const END = '<!-- results:end -->'
const log = (line) => console.error(`[bench] ${line}`)

async function machine() {
  const sql = postgres(config.pgUrl, { max: 1, onnotice: () => {} })
  const [{ version: pg }] = await sql`SELECT version()`
  await sql.end({ timeout: 5 })
  const c = await mysql.createConnection(config.mysqlUrl)
  const [[{ v: my }]] = await c.query('SELECT version() AS v')
  await c.end()
  let nproc = String(os.availableParallelism?.() ?? os.cpus().length)
  try {
    nproc = execSync('nproc').toString().trim()
  } catch {}
  return {
    nproc,
    cpu: os.cpus()[0]?.model ?? 'unknown',
    node: process.version,
    pg: pg.split(' on ')[0],
    mysql: my,
    date: new Date().toISOString(),
  }
}

const started = Date.now()
const m = await machine()
const targets = []
const sections = []
const settings = `BENCH_RUNS=${config.runs} BENCH_OP_RUNS=${config.opRuns} BENCH_OP_MS=${config.opMs} BENCH_OP_SLICES=${config.opSlices} BENCH_HTTP_SECONDS=${config.httpSeconds} BENCH_WARMUP_SECONDS=${config.warmupSeconds} BENCH_CONNECTIONS=${config.connections} BENCH_POOL=${config.pool} BENCH_SEED=${config.seed} BENCH_SHARED_REQUESTS=${config.sharedRequests}${config.quick ? ' BENCH_QUICK=1' : ''}`
sections.push(
  `Measured ${m.date} on ${m.nproc} cores (${m.cpu}), Node ${m.node}, ${m.pg}, MariaDB ${m.mysql}; ` +
    `medians of ${config.opRuns} store-operation rounds and ${config.runs} HTTP rounds (windows of warm servers). Settings: \`${settings}\`.` +
    (config.only ? ` Only contenders matching \`${config.only}\`.` : ''),
)

if (config.parts.includes('ops')) {
  const ops = await benchStoreOps(log)
  sections.push(`### Store operations\n\n${storeOpsSection(ops, targets)}`)
}
if (config.parts.includes('http') || config.parts.includes('shared')) {
  const { http, shared, exactPg } = await benchHttp(log, config.parts)
  if (http.length)
    sections.push(
      `### HTTP: Express 5 + express-session, ${config.connections} connections\n\n${httpSection(http, exactPg, targets)}`,
    )
  if (shared.length)
    sections.push(
      `### Shared session: ${config.connections} connections on one cookie, ${config.sharedRequests} increments of one counter\n\n${sharedSection(shared, targets)}\n\n` +
        `_Medians of ${config.sharedRounds} rounds per contender, each on a fresh server and table, the order rotating from round to round. \`sessile pg\`, \`sessile mysql\`, \`sessile redis\`: the default mode (concurrent changes of different fields merge; a session whose saves conflict turns hot and its requests take the row's lease at load, one after another, until it cools down). \`… serialized\`: \`createSessions({ serialize: true })\`, a lease on every session row taken at load and released at save. Statements: the server's whole life over the requests it served._`,
    )
}
if (process.env.BENCH_MEMORY === '1') {
  const r = await benchMemoryChild(log)
  sections.push(`### Memory\n\n${memorySummary(r)}`)
  targets.push({
    what: 'memory flat: heap growth over the run ≤ 2 MB and trend ≤ 0.2 MB per 100,000 operations',
    value: `${(r.after - r.before).toFixed(1)} MB / ${r.slope.toFixed(2)} MB`,
    pass: r.after - r.before <= 2 && r.slope <= 0.2,
  })
}
if (targets.length) sections.push(`### Targets\n\n${targetsSection(targets)}`)
sections.push(`_Total time ${((Date.now() - started) / 1000).toFixed(0)} s._`)

const results = sections.join('\n\n')
console.log(results)

if (config.out) {
  const template = `# Benchmarks\n\n${START}\n${END}\n`
  const doc = existsSync(config.out) ? readFileSync(config.out, 'utf8') : template
  const at = doc.indexOf(START)
  const end = doc.indexOf(END)
  const next =
    at >= 0 && end > at
      ? `${doc.slice(0, at + START.length)}\n${results}\n${doc.slice(end)}`
      : `${doc.trimEnd()}\n\n${START}\n${results}\n${END}\n`
  writeFileSync(config.out, next)
  log(`wrote ${config.out}`)
}
