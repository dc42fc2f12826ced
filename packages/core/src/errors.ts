const kSessionError = Symbol.for('sessile.error')

/**
 * Every failure Sessile reports carries one of these codes.
 *
 * - `E_OPTION`: an option has the wrong type or value (raised at construction).
 * - `E_INVALID`: an argument handed to a store or the manager is malformed.
 * - `E_STORE`: the store could not do its work (database down, connection lost).
 * - `E_DECODE`: a stored payload could not be decoded (tampered, truncated, unknown filter or key).
 * - `E_SERIALIZE`: session data cannot be stored as JSON (cycles, BigInt, non-object).
 * - `E_TOO_LARGE`: a payload exceeds the configured or physical size limit; nothing was written.
 * - `E_CONFLICT`: a concurrent writer won a race that could not be merged.
 * - `E_BUSY`: a serialised session stayed locked longer than the bounded wait.
 */
export type SessionErrorCode =
  | 'E_OPTION'
  | 'E_INVALID'
  | 'E_STORE'
  | 'E_DECODE'
  | 'E_SERIALIZE'
  | 'E_TOO_LARGE'
  | 'E_CONFLICT'
  | 'E_BUSY'

const STATUS: Record<SessionErrorCode, number> = {
  E_OPTION: 500,
  E_INVALID: 400,
  E_STORE: 503,
  E_DECODE: 500,
  E_SERIALIZE: 500,
  E_TOO_LARGE: 413,
  E_CONFLICT: 409,
  E_BUSY: 503,
}

/**
 * The one error class of Sessile. Check for it with {@link isSessionError}, not `instanceof`,
 * so that two copies of the package in one process still recognise each other's errors.
 *
 * @example
 * try { await sessions.load(cookie) } catch (e) {
 *   if (isSessionError(e) && e.code === 'E_STORE') res.status(503)
 * }
 */
export class SessionError extends Error {
  static readonly [kSessionError] = true
  override name = 'SessionError'
  /** An HTTP status that fits the failure: 503 for store outages, 413 for size, 500 otherwise. */
  readonly statusCode: number

  constructor(
    readonly code: SessionErrorCode,
    readonly source: string,
    message: string,
    options?: ErrorOptions,
  ) {
    super(`[sessile] [${source}] ${message}`, options)
    this.statusCode = STATUS[code]
  }

  toJSON(): { name: string; code: SessionErrorCode; source: string; message: string; statusCode: number } {
    return {
      name: this.name,
      code: this.code,
      source: this.source,
      message: this.message,
      statusCode: this.statusCode,
    }
  }
}

/** True when `e` is a {@link SessionError} from any copy of `@sessile/core`. */
export const isSessionError = (e: unknown): e is SessionError =>
  typeof e === 'object' &&
  e !== null &&
  (e as { constructor?: Record<symbol, unknown> }).constructor?.[kSessionError] === true

/** Wrap a driver failure as `E_STORE`, keeping a SessionError that is already typed. */
export function storeError(source: string, action: string, cause: unknown): SessionError {
  if (isSessionError(cause)) return cause
  const detail = cause instanceof Error ? cause.message : String(cause)
  return new SessionError('E_STORE', source, `${action} failed: ${detail}`, { cause })
}
