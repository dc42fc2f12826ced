import type { WriteResult } from '@sessile/core'

/**
 * A write hands back its new (expiry ms, version) packed into the one 63-bit integer MySQL
 * returns with every OK packet, through `LAST_INSERT_ID(expiry_ms * VERSION_LIMIT + version)`:
 * the low VERSION_BITS bits are the version, the rest the expiry in ms since the epoch. That is
 * what keeps writes at one round trip on servers without RETURNING (MySQL 8); versions wrap
 * below VERSION_LIMIT so they always fit, and 0 is left to mean "no row matched".
 */
export const VERSION_BITS = 21n
export const VERSION_LIMIT = 2097152
export const VERSION_MAX = VERSION_LIMIT - 1
const VERSION_MASK = (1n << VERSION_BITS) - 1n

/** A write's OK packet `insertId` as its result; null when the statement matched no row. */
export function unpackWrite(insertId: number | string | bigint): WriteResult | null {
  const id = BigInt(insertId)
  if (id === 0n) return null
  return { ok: true, version: Number(id & VERSION_MASK), expiry: new Date(Number(id >> VERSION_BITS)) }
}
