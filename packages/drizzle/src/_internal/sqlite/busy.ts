/**
 * SQLite's "database is locked" (SQLITE_BUSY and its extended codes), as better-sqlite3
 * (`code`) and libSQL (`code`, or `rawCode` 5 and `5 | n << 8`) report it. A busy statement did
 * nothing, so it may run again.
 */
export function isBusy(error: unknown): boolean {
  const e = error as { code?: unknown; rawCode?: unknown; cause?: unknown } | null
  if (typeof e?.code === 'string' && e.code.startsWith('SQLITE_BUSY')) return true
  if (typeof e?.rawCode === 'number' && (e.rawCode & 0xff) === 5) return true
  return e?.cause !== undefined && e.cause !== error && isBusy(e.cause)
}
