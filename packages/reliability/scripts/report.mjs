// Collect the figures of the last `reliability` and `reliability-faults` runs into
// docs/reliability.md, between the results markers (the hand-written text around them stays).
import { existsSync, readFileSync, writeFileSync } from 'node:fs'

const dir = new URL('../.figures/', import.meta.url)
const out = new URL('../../../docs/reliability.md', import.meta.url)
const START = '<!-- figures:start -->'
const END = '<!-- figures:end -->'

const rows = []
const runs = []
for (const project of ['reliability', 'reliability-faults']) {
  const file = new URL(`${project}.jsonl`, dir)
  if (!existsSync(file)) continue
  const lines = readFileSync(file, 'utf8').split('\n').filter(Boolean)
  const parsed = lines.map((l) => JSON.parse(l))
  rows.push(...parsed)
  const last = parsed
    .map((r) => r.at)
    .sort()
    .at(-1)
  runs.push(`\`${project}\`: ${parsed.length} figures, last recorded ${last}`)
}
if (rows.length === 0) {
  console.error('no figures recorded: run `pnpm test` and `pnpm test:faults` first')
  process.exit(1)
}

const fmt = (v) =>
  typeof v === 'number'
    ? Number.isInteger(v)
      ? v.toLocaleString('en-US')
      : Math.abs(v) < 1
        ? v.toPrecision(3)
        : v.toLocaleString('en-US', { maximumFractionDigits: 2 })
    : String(v)
const cell = (s) => String(s).replace(/\|/g, '\\|')

const sections = new Map()
for (const r of rows) {
  if (!sections.has(r.section)) sections.set(r.section, [])
  sections.get(r.section).push(r)
}
let md = `Runs: ${runs.join('; ')}.\n`
for (const [section, list] of sections) {
  md += `\n### ${section}\n\n| Measured | Value | Target |\n|---|---:|---|\n`
  for (const r of list)
    md += `| ${cell(r.name)} | ${cell(fmt(r.value))}${r.unit ? ` ${cell(r.unit)}` : ''} | ${cell(r.target ?? '')} |\n`
}

const template = `# Reliability\n\n${START}\n${END}\n`
const doc = existsSync(out) ? readFileSync(out, 'utf8') : template
const a = doc.indexOf(START)
const b = doc.indexOf(END)
if (a < 0 || b < a) throw new Error(`docs/reliability.md lacks the ${START} / ${END} markers`)
writeFileSync(out, `${doc.slice(0, a + START.length)}\n${md}\n${doc.slice(b)}`)
console.log(md)
