// The embedded default, chosen by measurement: PGlite against SQLite (better-sqlite3 and libSQL)
// for start-up time, memory, requests/s in one process, and requests/s of 4 processes on one
// database. Each figure comes from a fresh process; kinds take turns round by round (in an order
// that rotates) and medians are reported. Runs against the built packages:
//   pnpm build && pnpm --filter @sessile/bench embedded
// EMBEDDED_ROUNDS (default 5), EMBEDDED_SECONDS (default 2), EMBEDDED_PROCESSES (default 4).
import { spawn } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { median } from './stats.mjs'

const ROUNDS = Number(process.env.EMBEDDED_ROUNDS ?? 5)
const SECONDS = Number(process.env.EMBEDDED_SECONDS ?? 2)
const PROCESSES = Number(process.env.EMBEDDED_PROCESSES ?? 4)
const KINDS = ['pglite', 'sqlite', 'libsql']
const child = fileURLToPath(new URL('./embedded-child.mjs', import.meta.url))
const dir = mkdtempSync(join(tmpdir(), 'sessile-embedded-'))

function run(kind, path) {
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, [child, kind, path, String(SECONDS)], {
      cwd: fileURLToPath(new URL('..', import.meta.url)),
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    let out = ''
    let err = ''
    p.stdout.on('data', (d) => {
      out += d
    })
    p.stderr.on('data', (d) => {
      err += d
    })
    p.on('exit', (code) => {
      const last = out.trim().split('\n').pop() ?? ''
      if (code === 0 && last.startsWith('{')) resolve(JSON.parse(last))
      else reject(new Error(`${kind} exited ${code}: ${err.slice(-1000)}`))
    })
  })
}

const pathOf = (kind, round, tag) => join(dir, `${kind}-${round}-${tag}${kind === 'pglite' ? '' : '.db'}`)
const single = new Map(KINDS.map((k) => [k, []]))
const multi = new Map(KINDS.filter((k) => k !== 'pglite').map((k) => [k, []]))
try {
  for (let round = 0; round < ROUNDS; round++) {
    const order = [...KINDS.slice(round % KINDS.length), ...KINDS.slice(0, round % KINDS.length)]
    for (const kind of order) {
      single.get(kind).push(await run(kind, pathOf(kind, round, 'one')))
      // PGlite keeps its database in one process's memory: a second process on the same data
      // directory is not supported, so it has no several-process figure.
      if (multi.has(kind)) {
        const path = pathOf(kind, round, 'many')
        const all = await Promise.all(Array.from({ length: PROCESSES }, () => run(kind, path)))
        multi.get(kind).push(all.reduce((n, r) => n + r.opsPerSec, 0))
      }
      console.error(`[embedded] round ${round + 1}/${ROUNDS} ${kind} done`)
    }
  }
} finally {
  rmSync(dir, { recursive: true, force: true })
}

const f0 = (n) => Math.round(n).toLocaleString('en-US')
const rows = KINDS.map((kind) => {
  const r = single.get(kind)
  const m = multi.get(kind)
  return `| ${kind === 'sqlite' ? 'SQLite (better-sqlite3)' : kind === 'libsql' ? 'SQLite (libSQL)' : 'PGlite'} | ${f0(median(r.map((x) => x.startMs)))} | ${f0(median(r.map((x) => x.rssStartMB)))} | ${f0(median(r.map((x) => x.rssEndMB)))} | ${f0(median(r.map((x) => x.opsPerSec)))} | ${m ? f0(median(m)) : 'not supported'} |`
})
console.log(
  [
    `Medians of ${ROUNDS} rounds, each figure from fresh processes; ${SECONDS} s of load + change + commit of 256 sessions by 32 concurrent requests per process; ${PROCESSES} processes on one database for the last column. Node ${process.version}.`,
    '',
    `| store | start-up to first commit (ms) | RSS after start (MB) | RSS after load (MB) | requests/s, 1 process | requests/s, ${PROCESSES} processes on one database |`,
    '| --- | --- | --- | --- | --- | --- |',
    ...rows,
  ].join('\n'),
)
