import { RESULT_HOLES } from './postgres-js/statement.js'

/**
 * Errors that mean "the connection went away", after which the pool hands out a fresh one.
 * Operations retry a few times on these. When the server killed the connection the statement was rolled
 * back; in the rare case its reply was lost after a commit, the retry's answer is still safe
 * (an upsert bumps the version once more, an insert reports `exists`, a sweep or destroy finds
 * the rows already gone, exactly as if the first reply had arrived and been dropped).
 */
const NETWORK = new Set(['ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'ENOTCONN', 'ECONNABORTED'])

// postgres.js codes, admin_shutdown/crash_shutdown/cannot_connect_now, SQLSTATE class 08, and a
// result postgres.js assembled wrong (RESULT_HOLES, postgres-js/statement.ts): its reply is as good as lost.
const PG = new Set(['CONNECTION_CLOSED', 'CONNECTION_DESTROYED', '57P01', '57P02', '57P03', RESULT_HOLES])

export function isPgConnectionLost(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code
  if (typeof code !== 'string') return false
  return NETWORK.has(code) || PG.has(code) || /^08[0-9A-Z]{3}$/.test(code)
}

// serialization_failure and deadlock_detected: the statement's transaction was rolled back, so
// running the statement again cannot apply it twice (every store statement is its own transaction).
const PG_CONFLICT = new Set(['40001', '40P01'])

/** A lost connection, or a conflict that rolled the statement back: either is tried again. */
export function isPgRetryable(error: unknown): boolean {
  if (isPgConnectionLost(error)) return true
  const code = (error as { code?: unknown } | null)?.code
  return typeof code === 'string' && PG_CONFLICT.has(code)
}

// ER_CONNECTION_KILLED (MariaDB), CR_SERVER_GONE_ERROR, CR_SERVER_LOST, ER_SERVER_SHUTDOWN.
const MYSQL_ERRNO = new Set([1927, 2006, 2013, 1053])

export function isMysqlConnectionLost(error: unknown): boolean {
  const e = error as { code?: unknown; errno?: unknown; message?: unknown } | null
  if (!e) return false
  if (typeof e.code === 'string' && (NETWORK.has(e.code) || e.code === 'PROTOCOL_CONNECTION_LOST'))
    return true
  if (typeof e.errno === 'number' && MYSQL_ERRNO.has(e.errno)) return true
  // mysql2 reports a command sent to a connection it already knows is dead this way, without a code.
  return typeof e.message === 'string' && e.message.includes('connection is in closed state')
}

/**
 * A few tries, a moment apart, while the failure is `retryable`: every pooled connection may have
 * been cut at once. A caller that made the first try itself (off this slower path) passes that
 * try's error as `first`; the same pause follows it as any other failed try (at least a
 * macrotask, which lets the driver take in the close before the next try).
 */
export async function retryOn<T>(
  retryable: (error: unknown) => boolean,
  run: () => Promise<T>,
  first?: { error: unknown },
): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    try {
      if (attempt === 0 && first) throw first.error
      return await run()
    } catch (error) {
      if (attempt >= 4 || !retryable(error)) throw error
      await new Promise((resolve) => setTimeout(resolve, attempt * 15))
    }
  }
}
