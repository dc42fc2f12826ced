import { randomBytes } from 'node:crypto'

export const PG_URL = process.env.SESSILE_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test'
export const MYSQL_URL = process.env.SESSILE_MYSQL_URL ?? 'mysql://root@127.0.0.1:3306/test'

/** A table name no other test (or engineer) uses at the same time. */
export const uniqueTable = (prefix = 'sess'): string => `${prefix}_${randomBytes(5).toString('hex')}`

export const HOUR = 3_600_000
export const bytes = (s: string): Uint8Array => new TextEncoder().encode(s)
export const text = (b: Uint8Array): string => new TextDecoder().decode(b)
