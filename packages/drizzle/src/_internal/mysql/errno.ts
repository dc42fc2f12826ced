/** ER_PARSE_ERROR: the server does not know the syntax (DELETE ... RETURNING on MySQL). */
export const ER_PARSE_ERROR = 1064

// ER_LOCK_DEADLOCK (also Galera's certification failure), ER_LOCK_WAIT_TIMEOUT.
const CONFLICT = new Set([1213, 1205])
// ER_UNKNOWN_COM_ERROR (wsrep not ready), ER_QUERY_INTERRUPTED, ER_LOCK_ABORTED (wsrep BF abort).
const NOT_READY = new Set([1047, 1317, 1689])

/** The server's error number of a store error (its cause) or of a driver error. */
export const errnoOf = (error: unknown): unknown =>
  (error as { cause?: { errno?: unknown } } | null)?.cause?.errno ??
  (error as { errno?: unknown } | null)?.errno

/** A field of a driver error, or of the driver error a store error wraps (its cause). */
export function fieldOf(error: unknown, name: 'errno' | 'code' | 'sqlState'): unknown {
  const e = error as Record<string, unknown> | null
  const cause = e?.cause as Record<string, unknown> | null | undefined
  return e?.[name] ?? cause?.[name]
}

/**
 * A deadlock, lock wait timeout or certification failure (1213 even at COMMIT, SQLSTATE 40001):
 * the statement (or transaction) was rolled back.
 */
export function isRetryable(error: unknown): boolean {
  const errno = fieldOf(error, 'errno')
  return (typeof errno === 'number' && CONFLICT.has(errno)) || fieldOf(error, 'sqlState') === '40001'
}

/** The node refused or interrupted the statement (out of the cluster): nothing was committed. */
export function isNotReady(error: unknown): boolean {
  const errno = fieldOf(error, 'errno')
  return typeof errno === 'number' && NOT_READY.has(errno)
}
