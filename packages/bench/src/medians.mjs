// The median over several runs of each target's ratio, each ratio measured within its own run:
//
//   pnpm --filter @sessile/bench bench > run1.txt   (three times, or BENCH_OUT= to keep the docs)
//   node src/medians.mjs run1.txt run2.txt run3.txt
//
// Reads the "Targets" table each run printed and prints, per target, every run's figures, their
// median and the verdict on the median.
import { readFileSync } from 'node:fs'
import { fmtBound, median, meets } from './stats.mjs'

const files = process.argv.slice(2)
if (files.length === 0) {
  console.error('usage: node src/medians.mjs <run output> [<run output> ...]')
  process.exit(2)
}

/** target text → the figures of its cell, from one run's printed Targets table. */
function targets(text) {
  const out = new Map()
  for (const line of text.split('\n')) {
    const m = /^\| (.+?[≥≤].+?) \| ([^|]+) \| (?:met|\*\*missed\*\*) \|$/.exec(line.trim())
    if (m)
      out.set(
        m[1],
        [...m[2].matchAll(/[0-9]+(?:\.[0-9]+)?/g)].map((x) => Number(x[0])),
      )
  }
  return out
}

const runs = files.map((f) => targets(readFileSync(f, 'utf8')))
let met = 0
let total = 0
for (const [target] of runs[0]) {
  const figures = runs.map((r) => r.get(target))
  if (figures.some((f) => f === undefined)) continue
  // Each bound in the target's text applies to the figure in the same position.
  const bounds = [...target.matchAll(/([≥≤]) ([0-9.]+)/g)].map((m) => [m[1], Number(m[2])])
  const medians = bounds.map((_, i) => median(figures.map((f) => f[i])))
  const ok = bounds.every(([op, bound], i) => meets(medians[i], op, bound))
  total++
  if (ok) met++
  const each = figures.map((f) => f.slice(0, bounds.length).join(' / ')).join('; ')
  console.log(
    `${ok ? 'met   ' : 'MISSED'} ${target}: ${medians.map((x, i) => fmtBound(x, ...bounds[i])).join(' / ')} (runs: ${each})`,
  )
}
console.log(`\n${met} of ${total} targets met by the median of ${runs.length} runs`)
