import { execFileSync } from 'node:child_process'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import { fmtBound, median, percentile } from '../src/stats.mjs'

describe('fmtBound: a printed figure never rounds across its bound', () => {
  it('prints two decimals where they keep the verdict', () => {
    expect(fmtBound(1.004, '≥', 1)).toBe('1.00')
    expect(fmtBound(2.345, '≥', 1.5)).toBe('2.35')
    expect(fmtBound(1.0449, '≤', 1.05)).toBe('1.04')
    expect(fmtBound(1.2, '≥', 1.2)).toBe('1.20')
  })

  it('prints more where two would turn a miss into a pass', () => {
    expect(fmtBound(0.996, '≥', 1)).toBe('0.996')
    expect(fmtBound(0.9999, '≥', 1)).toBe('0.9999')
    expect(fmtBound(1.051, '≤', 1.05)).toBe('1.051')
    expect(fmtBound(1.0501, '≤', 1.05)).toBe('1.0501')
  })

  it('prints a dash for no figure', () => {
    expect(fmtBound(Number.NaN, '≥', 1)).toBe('—')
    expect(fmtBound(undefined, '≤', 1.05)).toBe('—')
  })
})

describe('median and percentile', () => {
  it('take the middle (mean of the two middles) and skip non-finite values', () => {
    expect(median([3, 1, 2])).toBe(2)
    expect(median([4, 1, 3, 2])).toBe(2.5)
    expect(median([Number.NaN, 5, 1, 3])).toBe(3)
    expect(median([])).toBeNaN()
  })

  it('percentile is the nearest rank of a sorted array', () => {
    const sorted = Array.from({ length: 100 }, (_, i) => i + 1)
    expect(percentile(sorted, 50)).toBe(50)
    expect(percentile(sorted, 99)).toBe(99)
    expect(percentile([7], 99)).toBe(7)
  })
})

describe('medians.mjs: the verdict on the median of several runs', () => {
  const script = fileURLToPath(new URL('../src/medians.mjs', import.meta.url))
  const run = (rows) =>
    [
      '| target | measured |  |',
      '| --- | --- | --- |',
      ...rows.map(([t, v, ok]) => `| ${t} | ${v} | ${ok} |`),
    ].join('\n')

  it('takes the median of each figure and judges it against its own bound', () => {
    const dir = mkdtempSync(join(tmpdir(), 'medians-'))
    const cell = 'mysql destroy 16KB c=1: Sessile store / peer ≥ 1.00, / raw ≥ 0.85'
    const http = 'HTTP changing: sessile mysql / express-mysql-session ≥ 1.00'
    const stmts = 'HTTP read-only: sessile pg statements/request ≤ 1.05'
    const files = [
      run([
        [cell, '0.97 / 1.06', '**missed**'],
        [http, '0.996', '**missed**'],
        [stmts, '1.00', 'met'],
      ]),
      run([
        [cell, '1.10 / 1.09', 'met'],
        [http, '0.998', '**missed**'],
        [stmts, '1.051', '**missed**'],
      ]),
      run([
        [cell, '0.99 / 0.80', '**missed**'],
        [http, '1.00', 'met'],
        [stmts, '1.01', 'met'],
      ]),
    ].map((text, i) => {
      const f = join(dir, `run${i}.txt`)
      writeFileSync(f, text)
      return f
    })
    const out = execFileSync(process.execPath, [script, ...files], { encoding: 'utf8' })
    expect(out).toContain(`MISSED ${cell}: 0.99 / 1.06`)
    expect(out).toContain(`MISSED ${http}: 0.998`)
    expect(out).toContain(`met    ${stmts}: 1.01`)
    expect(out).toContain('1 of 3 targets met by the median of 3 runs')
  })
})
