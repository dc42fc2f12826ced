import { SessionError } from './errors.js'

/** A duration: milliseconds as a number, or a string such as `'500ms'`, `'30s'`, `'30m'`, `'12h'`, `'7d'`. */
export type Duration = number | `${number}${'ms' | 's' | 'm' | 'h' | 'd'}`

const UNIT: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }

/**
 * Parse a {@link Duration} into whole milliseconds (at least 1).
 *
 * @example
 * parseDuration('30m') // 1_800_000
 */
export function parseDuration(value: unknown, option: string): number {
  let ms: number | undefined
  if (typeof value === 'number') ms = value
  else if (typeof value === 'string') {
    const m = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)\s*$/.exec(value)
    if (m) ms = Number(m[1]) * (UNIT[m[2] as string] as number)
  }
  if (ms === undefined || !Number.isFinite(ms) || ms < 1 || ms > 10 * 365 * 86_400_000) {
    throw new SessionError(
      'E_OPTION',
      'options',
      `${option} must be a positive duration in ms or a string like '30m' (got ${describe(value)})`,
    )
  }
  return Math.round(ms)
}

export function describe(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value)
  if (value === null) return 'null'
  if (Array.isArray(value)) return 'an array'
  if (typeof value === 'object') return 'an object'
  return `${typeof value} ${String(value)}`
}
