/** Percentile of an already sorted array (nearest rank). */
export function percentile(sorted, p) {
  if (sorted.length === 0) return Number.NaN
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))
  return sorted[i]
}

/** `list` started at index `shift` (modulo its length): the order of turn `shift`. */
export function rotated(list, shift) {
  const k = shift % list.length
  return [...list.slice(k), ...list.slice(0, k)]
}

export function median(values) {
  const v = values.filter((x) => Number.isFinite(x)).sort((a, b) => a - b)
  if (v.length === 0) return Number.NaN
  const mid = v.length >> 1
  return v.length % 2 ? v[mid] : (v[mid - 1] + v[mid]) / 2
}

/** Latency samples grow in a typed array so a long run does not churn the heap it measures. */
export class Samples {
  #buf = new Float64Array(4096)
  #n = 0

  push(ms) {
    if (this.#n === this.#buf.length) {
      const next = new Float64Array(this.#buf.length * 2)
      next.set(this.#buf)
      this.#buf = next
    }
    this.#buf[this.#n++] = ms
  }

  get count() {
    return this.#n
  }

  summary(elapsedMs) {
    const sorted = this.#buf.slice(0, this.#n).sort()
    return {
      ops: this.#n,
      opsPerSec: (this.#n / elapsedMs) * 1000,
      p50: percentile(sorted, 50),
      p99: percentile(sorted, 99),
    }
  }
}

export const fmtInt = (n) => (Number.isFinite(n) ? Math.round(n).toLocaleString('en-US') : '—')
export const fmtMs = (n) => (Number.isFinite(n) ? (n < 10 ? n.toFixed(2) : n.toFixed(1)) : '—')
export const fmtRatio = (n) => (Number.isFinite(n) ? n.toFixed(2) : '—')

/**
 * A figure next to its bound: two decimals, or more where two would round it across the bound
 * (0.996 against ≥ 1.00 prints 0.996, not 1.00), so a printed verdict always matches its figure.
 */
export function fmtBound(n, op, bound) {
  if (!Number.isFinite(n)) return '—'
  const pass = meets(n, op, bound)
  for (let digits = 2; digits < 6; digits++) {
    const shown = n.toFixed(digits)
    if (meets(Number(shown), op, bound) === pass) return shown
  }
  return String(n)
}

/** Whether `n` keeps a target's bound: `op` is '≥' or '≤', as the targets are written. */
export function meets(n, op, bound) {
  return op === '≥' ? n >= bound : n <= bound
}
