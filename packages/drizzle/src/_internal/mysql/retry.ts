import { isMysqlConnectionLost } from '../connection-lost.js'
import { fieldOf, isNotReady, isRetryable } from './errno.js'

/**
 * What a failed statement or transaction means for trying it again:
 * - `conflict`: a deadlock, a lock wait timeout or Galera's certification failure (1213 even at
 *   COMMIT, SQLSTATE 40001). The transaction was rolled back: retrying it whole is always safe.
 * - `not-ready`: the node refused the statement before running it (Galera's "WSREP has not yet
 *   prepared node for application use" while it is out of the primary component) or interrupted
 *   it when it left the cluster. Nothing was committed.
 * - `lost`: the connection went away. The statement may or may not have committed; see
 *   connection-lost.ts for why every store statement gives a safe answer when sent again.
 * - `unreachable`: no connection could be made (refused, host unreachable): nothing was sent.
 * - `other`: not retried.
 */
export type MysqlFailure = 'conflict' | 'not-ready' | 'lost' | 'unreachable' | 'other'

const UNREACHABLE = new Set(['ECONNREFUSED', 'EHOSTUNREACH', 'ENETUNREACH', 'EADDRNOTAVAIL'])

/** The class of a failure; the server's error numbers behind each class are in errno.ts. */
export function classifyMysqlFailure(error: unknown): MysqlFailure {
  if (isRetryable(error)) return 'conflict'
  if (isNotReady(error)) return 'not-ready'
  if (isMysqlConnectionLost(error) || isMysqlConnectionLost((error as { cause?: unknown } | null)?.cause))
    return 'lost'
  const code = fieldOf(error, 'code')
  if (typeof code === 'string' && UNREACHABLE.has(code)) return 'unreachable'
  return 'other'
}

/**
 * A claim (sweep, destroyByRef) that locked rows and then deleted fewer of them: someone else
 * deleted the rest meanwhile (another Galera node, whose locks ours did not see). It is thrown
 * inside the transaction, which rolls back, and classed as a conflict, so the claim runs again.
 */
export function claimRaced(locked: number, deleted: number): Error {
  return Object.assign(
    new Error(`locked ${locked} rows but deleted ${deleted}: claimed elsewhere meanwhile`),
    {
      sqlState: '40001',
    },
  )
}

/** How a store retries its statements and transactions. */
export interface MysqlRetryPolicy {
  /** Tries in all, the first included. */
  attempts: number
  /** Retry `not-ready` and `unreachable` too: the next try may go to another node. */
  failover: boolean
  /** Retry conflicts; off for a statement whose caller has a better way out of a deadlock. */
  conflicts?: boolean
  /** Told of every retry (metrics): what failed, and the number of the try about to run. */
  onRetry?: (failure: MysqlFailure, attempt: number, error: unknown) => void
}

export const DEFAULT_RETRY: MysqlRetryPolicy = { attempts: 8, failover: false }

/** Whether a failure of this kind is tried again under the policy, at try `attempt` (1-based). */
export function shouldRetry(policy: MysqlRetryPolicy, failure: MysqlFailure, attempt: number): boolean {
  if (attempt >= policy.attempts) return false
  switch (failure) {
    case 'conflict':
      return policy.conflicts !== false
    // A lone server that lost every connection is back within a few tries or not soon.
    case 'lost':
      return attempt < 5 || policy.failover
    case 'not-ready':
    case 'unreachable':
      return policy.failover
    default:
      return false
  }
}

/**
 * The pause before try `attempt + 1`. Conflicts get full jitter over a doubling window, so writers
 * that collided on a row do not collide again in step. A lost connection waits at least a
 * macrotask so the driver takes in the close first; failover waits long enough for a node that
 * left to be noticed, not so long that the request times out.
 */
export function backoff(failure: MysqlFailure, attempt: number): number {
  switch (failure) {
    case 'conflict':
      return Math.random() * Math.min(200, 2 * 2 ** attempt)
    case 'lost':
      return attempt * 15
    default:
      return Math.min(1000, 50 * 2 ** (attempt - 1)) * (0.5 + Math.random() / 2)
  }
}

export const pause = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms))

/**
 * Run `run` until it succeeds or fails in a way the policy does not retry. A caller that made the
 * first try itself (off this slower path) passes that try's error as `first`.
 */
export async function retryMysql<T>(
  policy: MysqlRetryPolicy,
  run: () => Promise<T>,
  first?: { error: unknown },
): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      if (attempt === 1 && first) throw first.error
      return await run()
    } catch (error) {
      const failure = classifyMysqlFailure(error)
      if (!shouldRetry(policy, failure, attempt)) throw error
      policy.onRetry?.(failure, attempt + 1, error)
      await pause(backoff(failure, attempt))
    }
  }
}
