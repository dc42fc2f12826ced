import { describe, expect, it } from 'vitest'

// Short windows for the harness itself; config.mjs reads these once, at import.
process.env.BENCH_OP_MS = '60'
process.env.BENCH_OP_SLICES = '2'
const { runRound } = await import('../src/store-ops.mjs')

const sleep = (ms) => new Promise((r) => setTimeout(r, ms))

/** A contender over an in-memory table (this tests the harness, not a store). */
function contender(name, insertDelayMs) {
  const rows = new Set()
  const destroyed = []
  const inserted = []
  return {
    name,
    db: 'memory',
    kind: name,
    rows,
    destroyed,
    inserted,
    read: async (k) => rows.has(k),
    update: async () => {},
    touch: async () => {},
    insert: async (k) => {
      await (insertDelayMs > 0 ? sleep(insertDelayMs) : null)
      rows.add(k)
      inserted.push(k)
    },
    destroy: async (k) => {
      await null
      if (!rows.delete(k)) throw new Error(`${name}: destroyed ${k} twice or never inserted`)
      destroyed.push(k)
    },
  }
}

describe('runRound: the destroy phase', () => {
  it('times every contender on the same number of deletes, of rows written just before, newest first', async () => {
    const fast = contender('fast', 0)
    const slow = contender('slow', 2)
    const seeded = new Map([
      [fast, ['seed-f']],
      [slow, ['seed-s']],
    ])
    fast.rows.add('seed-f')
    slow.rows.add('seed-s')
    const results = new Map()
    await runRound([fast, slow], seeded, 4, results, 'x', 0)

    const ops = (c, op = 'destroy') => results.get(`${c.name}|x|4|${op}`).runs[0].ops
    // The slow inserter made far fewer rows than the fast one in the same window...
    expect(ops(fast, 'insert')).toBeGreaterThan(ops(slow, 'insert') * 3)
    // ...yet both were timed on the same number of deletes, at least the minimum per slice.
    expect(ops(fast)).toBe(ops(slow))
    expect(ops(fast)).toBeGreaterThanOrEqual(1000)
    for (const c of [fast, slow]) {
      const phase = ops(c, 'insert')
      const perSlice = ops(c) / 2
      // No timed delete took a row of the insert phase: those are as old as the contender's
      // insert rate made them.
      const timed = c.destroyed.slice(0, ops(c))
      expect(timed.filter((k) => c.inserted.indexOf(k) < phase)).toEqual([])
      // Each slice deletes the rows written for it just before, newest first.
      expect(timed.slice(0, perSlice)).toEqual(c.inserted.slice(phase, phase + perSlice).reverse())
      expect(timed.slice(perSlice)).toEqual(
        c.inserted.slice(phase + perSlice, phase + 2 * perSlice).reverse(),
      )
    }
    // The insert phase's rows are gone afterwards: only the seeded rows remain.
    expect([...fast.rows]).toEqual(['seed-f'])
    expect([...slow.rows]).toEqual(['seed-s'])
  }, 30_000)
})
