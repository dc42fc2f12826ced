import type { Sessions } from '@sessile/core'

/**
 * One failure the notifier or the monitor could not let through silently. Callback failures carry
 * the session they were about; `willRetry` says whether another attempt follows.
 */
export interface NotifyFailure {
  /**
   * Where it failed:
   * - `expire`: `onExpire` threw or rejected.
   * - `destroy`: `onDestroy` threw or rejected.
   * - `sweep`: the store could not sweep (a scheduled sweep; a manual `sweep()` rejects instead).
   * - `policy`: the max-sessions-per-ref policy could not evict.
   */
  stage: 'expire' | 'destroy' | 'sweep' | 'policy'
  /** What was thrown. Store failures are `SessionError` with code `E_STORE`. */
  error: unknown
  /** The storage key of the session concerned, when there is one. */
  key?: string
  /** The ref of the session concerned, when there is one. */
  ref?: string | null
  /** Attempts made so far (1 for the first failure). */
  attempts: number
  /** True when the callback will be called again; false when this notification is given up. */
  willRetry: boolean
}

/** Receives every {@link NotifyFailure}. */
export type FailureHandler = (failure: NotifyFailure) => void

/**
 * Deliver a failure to `onError`, or else as an `error` event of the manager. A throwing handler is
 * logged, never rethrown: reporting must not itself become an unhandled rejection.
 */
export function reporter(sessions: Sessions, onError: FailureHandler | undefined): FailureHandler {
  return (failure) => {
    try {
      if (onError) onError(failure)
      else void sessions.emit('error', { error: failure.error, event: `notify:${failure.stage}` })
    } catch (e) {
      console.error('[sessile] [notify] onError threw while reporting a failure:', e, failure)
    }
  }
}
