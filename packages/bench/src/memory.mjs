// Heap over BENCH_MEMORY_OPS (default 1,000,000) store operations through the manager on
// PostgreSQL: load and commit (changed data) on a bounded set of sessions, 32 at a time.
// Run with --expose-gc (pnpm bench:memory and pnpm bench do, in a process of its own) so every
// heap figure is after full collections. The baseline is taken after a warm-up at full
// concurrency: the pool's other connections, their buffers and prepared statements and the JIT's
// code are start-up costs, not growth.
import { performance } from 'node:perf_hooks'
import { createSessions } from '@sessile/core'
import { pgStore } from '@sessile/drizzle/pg'
import postgres from 'postgres'
import { config } from './config.mjs'
import { uniqueTable } from './ids.mjs'
import { sessionData } from './payload.mjs'

const TOTAL = Number(process.env.BENCH_MEMORY_OPS ?? 1_000_000)
const WARMUP = Number(process.env.BENCH_MEMORY_WARMUP ?? 20_000)
const CHECKPOINTS = 10

function heapMb() {
  globalThis.gc?.()
  globalThis.gc?.()
  return process.memoryUsage().heapUsed / 1024 / 1024
}

/** Least-squares growth of the checkpoints, in MB per 100,000 operations. */
function slopePer100k(points) {
  const n = points.length
  const mx = points.reduce((a, p) => a + p.ops, 0) / n
  const my = points.reduce((a, p) => a + p.mb, 0) / n
  let num = 0
  let den = 0
  for (const p of points) {
    num += (p.ops - mx) * (p.mb - my)
    den += (p.ops - mx) ** 2
  }
  return den === 0 ? 0 : (num / den) * 100_000
}

/** The memory scenario in a process of its own (with --expose-gc), so other parts leave nothing behind. */
export async function benchMemoryChild(log) {
  const { fork } = await import('node:child_process')
  const child = fork(new URL(import.meta.url), ['--json'], {
    execArgv: ['--expose-gc'],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  })
  return new Promise((resolve, reject) => {
    let result
    child.on('message', (m) => {
      if (m.type === 'log') log(m.line)
      if (m.type === 'result') result = m.result
    })
    child.on('error', reject)
    child.on('exit', (code) =>
      result ? resolve(result) : reject(new Error(`memory scenario exited with ${code}`)),
    )
  })
}

export async function benchMemory(log) {
  if (!globalThis.gc) log('memory: run node with --expose-gc for exact heap figures')
  const table = uniqueTable('bench_memory')
  const sessions = createSessions({ store: pgStore({ url: config.pgUrl, table, max: config.pool }) })
  const data = sessionData(400)
  const ids = []
  try {
    for (let i = 0; i < 1000; i++) {
      const s = sessions.create({ ...data })
      await sessions.commit(s)
      ids.push(s.id)
    }
    const cold = heapMb()
    let ops = 0
    let writes = 0
    // Worker w owns ids w, w + 32, ...: no two workers race on one session.
    const worker = (until) => async (w) => {
      for (let i = w; ops < until; i += config.connections) {
        const s = await sessions.load(ids[i % ids.length])
        s.set('n', ++writes)
        await sessions.commit(s)
        ops += 2
      }
    }
    const all = (until) => Promise.all(Array.from({ length: config.connections }, (_, w) => worker(until)(w)))
    await all(WARMUP)
    const warmOps = ops
    ops = 0
    const heap = [{ ops: 0, mb: heapMb() }]
    const start = performance.now()
    const step = Math.ceil(TOTAL / CHECKPOINTS)
    for (let k = 1; k <= CHECKPOINTS; k++) {
      await all(Math.min(TOTAL, k * step))
      heap.push({ ops, mb: heapMb() })
      log(`memory: ${ops.toLocaleString('en-US')} ops, heap after GC ${heap.at(-1).mb.toFixed(1)} MB`)
    }
    const seconds = (performance.now() - start) / 1000
    return {
      ops,
      warmOps,
      seconds,
      cold,
      before: heap[0].mb,
      after: heap.at(-1).mb,
      peak: Math.max(...heap.map((h) => h.mb)),
      slope: slopePer100k(heap),
      heap,
    }
  } finally {
    await sessions.store.close()
    const sql = postgres(config.pgUrl, { max: 1, onnotice: () => {} })
    await sql.unsafe(`DROP TABLE IF EXISTS "${table}"`).catch(() => {})
    await sql.end({ timeout: 5 })
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  if (process.argv.includes('--json') && process.send) {
    const r = await benchMemory((line) => process.send({ type: 'log', line }))
    process.send({ type: 'result', result: r })
    process.disconnect()
  } else {
    const r = await benchMemory(console.log)
    console.log(memorySummary(r))
  }
}

export function memorySummary(r) {
  const mb = (x) => `${x.toFixed(1)} MB`
  return (
    `${r.ops.toLocaleString('en-US')} store operations (manager load + commit of a changed session on PostgreSQL, ` +
    `${config.connections} at a time) in ${r.seconds.toFixed(0)} s, after a warm-up of ${r.warmOps.toLocaleString('en-US')}. ` +
    `Heap after full GC: ${mb(r.before)} at the start, ${mb(r.after)} at the end, peak ${mb(r.peak)}; ` +
    `trend ${r.slope >= 0 ? '+' : ''}${(r.slope * 1024).toFixed(0)} KB per 100,000 operations ` +
    `(checkpoints: ${r.heap.map((h) => h.mb.toFixed(1)).join(', ')} MB). ` +
    `Before the warm-up (one pool connection open, nothing compiled) the heap was ${mb(r.cold)}.`
  )
}
