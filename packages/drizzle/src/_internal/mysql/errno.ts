/** ER_PARSE_ERROR: the server does not know the syntax (DELETE ... RETURNING on MySQL). */
export const ER_PARSE_ERROR = 1064

/** The server's error number of a store error (its cause) or of a driver error. */
export const errnoOf = (error: unknown): unknown =>
  (error as { cause?: { errno?: unknown } } | null)?.cause?.errno ??
  (error as { errno?: unknown } | null)?.errno

/** A deadlock or lock wait timeout: the statement (or transaction) was rolled back. */
export function isRetryable(error: unknown): boolean {
  const errno = errnoOf(error)
  return errno === 1213 || errno === 1205
}
