/**
 * Figures: every reliability test prints what it measured (`[figure] …` on stdout) and records it
 * in `.figures/<project>.jsonl`; `pnpm --filter @sessile/reliability report` turns the records of
 * the last run into docs/reliability.md. The test itself asserts the target; a figure is the
 * evidence, never the check.
 */
import { appendFileSync, mkdirSync } from 'node:fs'
import { fileURLToPath } from 'node:url'

export const FIGURES_DIR = fileURLToPath(new URL('../.figures/', import.meta.url))

export interface Figure {
  /** The section of docs/reliability.md, e.g. 'Races'. */
  section: string
  /** What was measured, e.g. 'fields lost (32 requests x 20 rounds, PostgreSQL)'. */
  name: string
  value: number | string
  /** e.g. 'ms', 'req/s', '%'. */
  unit?: string
  /** The target as text, e.g. '0' or '≤ lease timeout (2 s)'. */
  target?: string
}

const project = (): string => process.env.SESSILE_FIGURES_PROJECT ?? 'reliability'

function format(v: number | string): string {
  if (typeof v === 'string') return v
  if (Number.isInteger(v)) return v.toLocaleString('en-US')
  if (Math.abs(v) < 1) return v.toPrecision(3)
  return v.toLocaleString('en-US', { maximumFractionDigits: 2 })
}

/** Print one figure and record it for docs/reliability.md. */
export function figure(f: Figure): void {
  const unit = f.unit ? ` ${f.unit}` : ''
  const target = f.target !== undefined ? ` (target ${f.target})` : ''
  console.log(`[figure] ${f.section} | ${f.name}: ${format(f.value)}${unit}${target}`)
  mkdirSync(FIGURES_DIR, { recursive: true })
  appendFileSync(
    `${FIGURES_DIR}${project()}.jsonl`,
    `${JSON.stringify({ ...f, at: new Date().toISOString() })}\n`,
  )
}
