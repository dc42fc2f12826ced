// Store operations in every run: read, update, touch, insert, destroy at concurrency 1 and N, for
// each payload size; the contenders of one database take turns on each operation. Loops are bounded by time and by key supply.
import { performance } from 'node:perf_hooks'
import { config, SIZES } from './config.mjs'
import { newId } from './ids.mjs'
import { sessionData } from './payload.mjs'
import { median, rotated, Samples } from './stats.mjs'
import { storeContenders } from './store-contenders.mjs'

export const OPS = ['read', 'update', 'touch', 'insert', 'destroy']
const HOT_KEYS = 256

/**
 * Run `op` from `concurrency` workers until `ms` pass or `next` runs out of keys; latencies go to
 * `samples`. Returns the time taken.
 */
async function drive(samples, concurrency, ms, next, op) {
  const start = performance.now()
  const deadline = start + ms
  let n = 0
  const worker = async (w) => {
    for (;;) {
      if (performance.now() >= deadline) return
      const key = next(w)
      if (key === undefined) return
      const t0 = performance.now()
      await op(key, n++)
      samples.push(performance.now() - t0)
    }
  }
  await Promise.all(Array.from({ length: concurrency }, (_, w) => worker(w)))
  return performance.now() - start
}

/** Seed `count` sessions through the contender's own insert path, `concurrency` at a time. */
async function seed(contender, count) {
  const keys = Array.from({ length: count }, newId)
  let i = 0
  const insert = contender.seed ?? contender.insert
  const worker = async () => {
    while (i < keys.length) await insert(keys[i++])
  }
  await Promise.all(Array.from({ length: 16 }, worker))
  return keys
}

/**
 * One round of every operation at one concurrency. Contenders take turns per operation, in slices
 * (in an order that rotates from slice to slice and round to round), so each ratio compares
 * windows interleaved within a second or two rather than a whole contender's pass apart: on a
 * shared machine the load drifts between those.
 */
export async function runRound(contenders, seeded, concurrency, results, sizeName, round) {
  const record = (c, op, r) => {
    const id = `${c.name}|${sizeName}|${concurrency}|${op}`
    if (!results.has(id))
      results.set(id, {
        contender: c.name,
        db: c.db,
        kind: c.kind,
        size: sizeName,
        concurrency,
        op,
        runs: [],
      })
    results.get(id).runs.push(r)
  }
  // Worker w only ever uses keys w, w + C, w + 2C, ...: no two workers race on one session,
  // as with independent users, so every contender's update is a plain update and not a merge.
  const state = new Map(
    contenders.map((c) => {
      const keys = seeded.get(c)
      const hot = keys.slice(0, HOT_KEYS)
      const cursor = new Array(concurrency).fill(0)
      const fromHot = (w) => {
        const k = hot[(w + cursor[w] * concurrency) % hot.length]
        cursor[w]++
        return k
      }
      const fromAll = (w) => keys[Math.floor(Math.random() * keys.length)] ?? fromHot(w)
      return [c, { cursor, fromHot, fromAll, inserted: [], doomed: [] }]
    }),
  )
  const phases = {
    read: (c, s, out, ms) => drive(out, concurrency, ms, s.fromAll, (k) => c.read(k)),
    update: (c, s, out, ms) => drive(out, concurrency, ms, s.fromHot, (k, n) => c.update(k, n)),
    touch: (c, s, out, ms) => drive(out, concurrency, ms, s.fromHot, (k) => c.touch(k)),
    insert: (c, s, out, ms) =>
      drive(
        out,
        concurrency,
        ms,
        () => newId(),
        async (k) => {
          const id = await c.insert(k)
          s.inserted.push(typeof id === 'string' ? id : k)
        },
      ),
    // Bounded by count, not time: every contender deletes the same number of rows per slice (see
    // destroyQuota), rows seeded for it just before the slice, newest first (see freshRows).
    destroy: (c, s, out) =>
      drive(
        out,
        concurrency,
        Number.POSITIVE_INFINITY,
        () => s.doomed.pop(),
        (k) => c.destroy(k),
      ),
  }
  // Each contender's window of opMs is cut into slices that alternate with the others' (in an
  // order that rotates from slice to slice): a drift of the machine's load, or the purge and flush
  // work one contender's writes leave behind, then falls on every contender alike.
  const sliceMs = config.opMs / config.opSlices
  for (const [i, op] of OPS.entries()) {
    const acc = new Map(contenders.map((c) => [c, { samples: new Samples(), ms: 0 }]))
    for (const c of contenders) state.get(c).cursor.fill(0)
    const perSlice = op === 'destroy' ? destroyQuota(contenders, state) : 0
    for (let slice = 0; slice < config.opSlices; slice++) {
      const order = rotated(contenders, round + i + slice)
      if (perSlice > 0) await freshRows(order, state, perSlice)
      for (const c of order) {
        const a = acc.get(c)
        a.ms += await phases[op](c, state.get(c), a.samples, sliceMs)
      }
    }
    for (const c of contenders) {
      const a = acc.get(c)
      record(c, op, a.samples.summary(a.ms))
    }
  }
  // The insert phase's rows go untimed, so no table grows from round to round.
  for (const c of contenders) {
    const s = state.get(c)
    await drive(
      new Samples(),
      concurrency,
      Number.POSITIVE_INFINITY,
      () => s.inserted.pop(),
      (k) => c.destroy(k),
    )
  }
}

/** The fewest deletes per slice worth timing: enough per worker at 32-way to outlast the timer's noise. */
const MIN_DESTROYS_PER_SLICE = 500

/**
 * The destroys each contender makes per slice: the same number for all of them, the fewest rows
 * any contender inserted in the insert phase divided over the slices, and at least the minimum.
 * Bounded by time instead, a slow inserter deleted its few rows in one short burst while a fast
 * one deleted many over every slice, so the two did not do the same work (docs/benchmarks.md).
 */
function destroyQuota(contenders, state) {
  const fewest = Math.min(...contenders.map((c) => state.get(c).inserted.length))
  return Math.max(MIN_DESTROYS_PER_SLICE, Math.floor(fewest / config.opSlices))
}

/**
 * Before each destroy slice, `count` new rows for every contender, untimed, through its own insert
 * path, in the slice's order: each contender then deletes rows it wrote moments ago, as a logout
 * deletes the session its request has just read, and all of them in the cache alike. Taken from
 * the insert phase instead, the rows were as old as each contender's insert rate made them: at
 * 16 KB the insert phase writes more than MariaDB's buffer pool holds, every delete reads the
 * row's BLOB pages, and whether those were still cached decided the cell (docs/benchmarks.md).
 */
async function freshRows(order, state, count) {
  for (const c of order) state.get(c).doomed = await seed(c, count)
}

/** All store-operation scenarios; returns one entry per (contender, size, concurrency, op). */
export async function benchStoreOps(log) {
  const results = new Map()
  const groups = ['pg', 'mysql', 'redis', 'pglite', 'sqlite']
  for (const [sizeName, size] of Object.entries(SIZES)) {
    const data = sessionData(size)
    for (const db of groups) {
      const contenders = storeContenders().filter(
        (c) => c.db === db && (!config.only || config.only.test(c.name)),
      )
      if (contenders.length === 0) continue
      try {
        const seeded = new Map()
        for (const c of contenders) {
          await c.setup(data)
          seeded.set(c, await seed(c, config.seed))
          if (c.prepare) await c.prepare(seeded.get(c).slice(0, HOT_KEYS))
        }
        let round = 0
        for (let run = 1; run <= config.opRuns; run++) {
          for (const concurrency of [1, config.connections]) {
            await runRound(contenders, seeded, concurrency, results, sizeName, round++)
          }
          log(`ops ${db} ${sizeName} run ${run}/${config.opRuns} done`)
        }
      } finally {
        for (const c of contenders) await c.close().catch((e) => log(`close ${c.name}: ${e.message}`))
      }
    }
  }
  return [...results.values()].map((r) => ({
    ...r,
    opsPerSec: median(r.runs.map((x) => x.opsPerSec)),
    p50: median(r.runs.map((x) => x.p50)),
    p99: median(r.runs.map((x) => x.p99)),
  }))
}
