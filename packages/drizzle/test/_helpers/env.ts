export { MYSQL_URL, PG_URL, uniqueTable } from '../../src/testing.js'

export const HOUR = 3_600_000
export const bytes = (s: string): Uint8Array => new TextEncoder().encode(s)
export const text = (b: Uint8Array): string => new TextDecoder().decode(b)
