// Heap over BENCH_MEMORY_OPS (default 1,000,000) store operations through the manager on
// PostgreSQL: load and commit (changed data) on a bounded set of sessions, 32 at a time.
// Run with --expose-gc (pnpm bench:memory does) so the heap figures are after full collections.
import { performance } from 'node:perf_hooks'
import { createSessions } from '@sessile/core'
import { pgStore } from '@sessile/drizzle/pg'
import postgres from 'postgres'
import { config } from './config.mjs'
import { uniqueTable } from './ids.mjs'
import { sessionData } from './payload.mjs'

const TOTAL = Number(process.env.BENCH_MEMORY_OPS ?? 1_000_000)
const CHECKPOINTS = 10

function heapMb() {
  globalThis.gc?.()
  globalThis.gc?.()
  return process.memoryUsage().heapUsed / 1024 / 1024
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
    const heap = [{ ops: 0, mb: heapMb() }]
    let ops = 0
    let writes = 0
    const start = performance.now()
    const step = Math.ceil(TOTAL / CHECKPOINTS)
    let nextCheck = step
    // Worker w owns ids w, w + 32, ...: no two workers race on one session.
    const worker = async (w) => {
      for (let i = w; ops < TOTAL; i += config.connections) {
        const s = await sessions.load(ids[i % ids.length])
        s.set('n', ++writes)
        await sessions.commit(s)
        ops += 2
      }
    }
    const sampler = (async () => {
      while (ops < TOTAL) {
        await new Promise((r) => setTimeout(r, 200))
        if (ops >= nextCheck) {
          heap.push({ ops, mb: process.memoryUsage().heapUsed / 1024 / 1024 })
          log(`memory: ${ops.toLocaleString('en-US')} ops, heap ${heap.at(-1).mb.toFixed(1)} MB`)
          nextCheck += step
        }
      }
    })()
    await Promise.all([...Array.from({ length: config.connections }, (_, w) => worker(w)), sampler])
    const seconds = (performance.now() - start) / 1000
    heap.push({ ops, mb: heapMb() })
    return { ops, seconds, before: heap[0].mb, after: heap.at(-1).mb, heap }
  } finally {
    await sessions.store.close()
    const sql = postgres(config.pgUrl, { max: 1, onnotice: () => {} })
    await sql.unsafe(`DROP TABLE IF EXISTS "${table}"`).catch(() => {})
    await sql.end({ timeout: 5 })
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const r = await benchMemory(console.log)
  console.log(
    `memory: ${r.ops.toLocaleString('en-US')} store ops in ${r.seconds.toFixed(0)} s; heap after GC ${r.before.toFixed(1)} MB before, ${r.after.toFixed(1)} MB after`,
  )
}
