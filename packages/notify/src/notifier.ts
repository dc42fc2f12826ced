import {
  type DestroyReason,
  type Duration,
  type SessionData,
  SessionError,
  type SessionRef,
  type Sessions,
  storeError,
} from '@sessile/core'
import { callbackOption, checkSessions, durationOption, fail, intOption } from './_internal/check.js'
import { jitteredDelay } from './_internal/jitter.js'
import { eachLimit, type RetryPolicy, withRetry } from './_internal/retry.js'
import { type FailureHandler, type NotifyFailure, reporter } from './failure.js'

const SOURCE = 'notify'

/** Options of {@link expiryNotifier}. */
export interface ExpiryNotifierOptions {
  /**
   * Called once for every session the sweep deleted because it expired, with its ref (ADOdb's
   * EXPIREREF, usually the user id; `null` for anonymous sessions) and its storage key.
   * May be async; a failure is retried (see `retries`) and reported, never thrown.
   * @default undefined (expired rows are still deleted)
   */
  onExpire?: (ref: string | null, key: string) => unknown
  /**
   * Called when a session is destroyed through this manager: logout (`'destroy'`), the old key of a
   * regenerate (`'regenerate'`), a session emptied of data (`'emptied'`), `destroyByRef` or the
   * monitor's `eject` (`'ref'`), the max-sessions-per-ref policy (`'evict'`). It runs in the
   * background, so a slow callback never delays the request that logged out.
   * @default undefined
   */
  onDestroy?: (ref: string | null, key: string, reason: DestroyReason) => unknown
  /**
   * Receives every failure: a callback that threw (each attempt, with `willRetry`), a scheduled
   * sweep the store could not run. Without it, failures are emitted as the manager's `error`
   * event (`event: 'notify:expire'`, …), which logs to the console when nobody listens.
   * @default undefined
   */
  onError?: (failure: NotifyFailure) => void
  /**
   * Time between scheduled sweeps, or `false` for no timer (call `sweep()` from a cron job).
   * The timer is unref'd: it never keeps the process alive.
   * @default '1m'
   */
  interval?: Duration | false
  /**
   * Spread of each wait around `interval`, as a share of it: the wait is drawn evenly from
   * `interval * (1 - jitter)` to `interval * (1 + jitter)`, so servers started together do not
   * sweep in lockstep.
   * @default 0.2
   */
  jitter?: number
  /**
   * Rows deleted per store call (one `DELETE … RETURNING` on SQL stores), from 1 to 100000.
   * @default 500
   */
  batchSize?: number
  /**
   * Most batches in one sweep, so one sweep of a huge backlog stays bounded; the rest waits for
   * the next sweep (`SweepResult.more` says so).
   * @default 200
   */
  maxBatches?: number
  /**
   * How many callbacks of one batch run at once.
   * @default 16
   */
  concurrency?: number
  /**
   * Retries of a callback that threw or rejected, in this process, before the notification is
   * given up (and reported with `willRetry: false`). From 0 to 10.
   * @default 3
   */
  retries?: number
  /**
   * Wait before the first retry; it doubles for each further retry, capped at 60 s.
   * @default '1s'
   */
  retryDelay?: Duration
}

/** What one sweep did. */
export interface SweepResult {
  /** Expired rows deleted. */
  expired: number
  /** Rows whose `onExpire` succeeded (all of `expired` when no `onExpire` is set). */
  notified: number
  /** Rows whose `onExpire` still failed after every retry. */
  failed: number
  /** Store calls made. */
  batches: number
  /** True when the sweep stopped at `maxBatches` (or at `stop()`) while expired rows may remain. */
  more: boolean
}

/** A running notifier; see {@link expiryNotifier}. */
export interface ExpiryNotifier {
  /**
   * Sweep now, in batches, until a batch comes back empty or `maxBatches` is reached; resolves when
   * every callback of the deleted rows has finished (retries included). While a sweep is running,
   * a second call joins it. Rejects with `E_STORE` when the store fails and with `E_INVALID` after
   * `stop()`.
   */
  sweep(): Promise<SweepResult>
  /** Resolves when the running sweep and every pending `onDestroy` callback have finished. */
  flush(): Promise<void>
  /**
   * Stop the timer and the destroy listener, then wait for the running sweep (which ends after its
   * current batch) and the pending callbacks. Idempotent.
   */
  stop(): Promise<void>
  /** Same as `stop()`. */
  close(): Promise<void>
  /** Whether `stop()` has been called. */
  readonly stopped: boolean
}

interface Resolved extends RetryPolicy {
  onExpire: ExpiryNotifierOptions['onExpire']
  onDestroy: ExpiryNotifierOptions['onDestroy']
  onError: ExpiryNotifierOptions['onError']
  interval: number | undefined
  jitter: number
  batchSize: number
  maxBatches: number
  concurrency: number
}

function resolve(options: ExpiryNotifierOptions): Resolved {
  if (typeof options !== 'object' || options === null) fail(SOURCE, 'options must be an object')
  const jitter = options.jitter ?? 0.2
  if (typeof jitter !== 'number' || !(jitter >= 0 && jitter <= 1))
    fail(SOURCE, 'jitter must be a number from 0 to 1')
  return {
    onExpire: callbackOption(SOURCE, 'onExpire', options.onExpire),
    onDestroy: callbackOption(SOURCE, 'onDestroy', options.onDestroy),
    onError: callbackOption(SOURCE, 'onError', options.onError),
    interval:
      options.interval === false ? undefined : durationOption(SOURCE, 'interval', options.interval, '1m'),
    jitter,
    batchSize: intOption(SOURCE, 'batchSize', options.batchSize, 500, 1, 100_000),
    maxBatches: intOption(SOURCE, 'maxBatches', options.maxBatches, 200, 1, 1_000_000),
    concurrency: intOption(SOURCE, 'concurrency', options.concurrency, 16, 1, 1000),
    retries: intOption(SOURCE, 'retries', options.retries, 3, 0, 10),
    retryDelay: durationOption(SOURCE, 'retryDelay', options.retryDelay, '1s'),
  }
}

/**
 * ADOdb's expiry notification for Node: deletes expired sessions in bounded batches and hands each
 * one's `(ref, key)` to `onExpire` exactly once, even with a notifier on every app server (the
 * store's sweep gives each row to one caller). Also reports destroyed sessions to `onDestroy`.
 *
 * Delivery is at-most-once: a row is deleted before its callback runs, so a process that dies
 * mid-sweep loses the callbacks of the batch it held. A failing callback is retried in-process
 * (`retries`, `retryDelay`) and reported to `onError`; it never throws and never stops later sweeps.
 *
 * @example
 * const notifier = expiryNotifier(sessions, {
 *   onExpire: async (ref) => { if (ref) await carts.release(ref) },
 *   onDestroy: (ref, key, reason) => audit.log({ ref, reason }),
 *   interval: '1m',
 * })
 * process.on('SIGTERM', () => notifier.stop())
 */
export function expiryNotifier<T extends SessionData>(
  sessions: Sessions<T>,
  options: ExpiryNotifierOptions = {},
): ExpiryNotifier {
  checkSessions(SOURCE, sessions)
  const o = resolve(options)
  const report: FailureHandler = reporter(sessions as unknown as Sessions, o.onError)
  const pending = new Set<Promise<unknown>>()
  let running: Promise<SweepResult> | null = null
  let timer: ReturnType<typeof setTimeout> | undefined
  let stopped = false

  // Tracked tasks never reject (failures go to `report`); the handlers below keep it that way even
  // if one did, so bookkeeping can never produce an unhandled rejection.
  const track = (p: Promise<unknown>): Promise<unknown> => {
    pending.add(p)
    const done = () => {
      pending.delete(p)
    }
    return p.then(done, done)
  }

  async function notifyExpired(row: SessionRef): Promise<boolean> {
    const onExpire = o.onExpire
    if (!onExpire) return true
    return withRetry(
      () => onExpire(row.ref, row.key),
      o,
      (error, attempts, willRetry) =>
        report({ stage: 'expire', error, key: row.key, ref: row.ref, attempts, willRetry }),
    )
  }

  async function run(): Promise<SweepResult> {
    const result: SweepResult = { expired: 0, notified: 0, failed: 0, batches: 0, more: false }
    for (;;) {
      if (result.batches >= o.maxBatches || (stopped && result.batches > 0)) {
        result.more = true
        return result
      }
      let batch: SessionRef[]
      try {
        batch = await sessions.store.sweep(o.batchSize)
      } catch (e) {
        throw storeError(`${SOURCE}] [${sessions.store.name}`, 'sweep', e)
      }
      result.batches++
      result.expired += batch.length
      await eachLimit(batch, o.concurrency, async (row) => {
        if (await notifyExpired(row)) result.notified++
        else result.failed++
      })
      // Only an empty batch means done: a short one may have skipped rows another sweeper held
      // (SKIP LOCKED); under contention MariaDB has skipped a row no sweeper then returned.
      if (batch.length === 0) return result
    }
  }

  function sweep(): Promise<SweepResult> {
    if (running) return running
    if (stopped) return Promise.reject(new SessionError('E_INVALID', SOURCE, 'sweep() after stop()'))
    const p = run().finally(() => {
      running = null
    })
    running = p
    return p
  }

  function schedule(): void {
    if (stopped || o.interval === undefined) return
    timer = setTimeout(tick, jitteredDelay(o.interval, o.jitter))
    // A pending sweep is housekeeping: it must never keep a finished process alive.
    timer.unref()
  }

  function tick(): void {
    timer = undefined
    track(
      sweep().then(
        () => undefined,
        (error: unknown) => report({ stage: 'sweep', error, attempts: 1, willRetry: !stopped }),
      ),
    ).then(schedule, schedule)
  }

  const unsubscribe = sessions.on('destroy', (event) => {
    const onDestroy = o.onDestroy
    if (!onDestroy || stopped) return
    track(
      withRetry(
        () => onDestroy(event.ref, event.key, event.reason),
        o,
        (error, attempts, willRetry) =>
          report({ stage: 'destroy', error, key: event.key, ref: event.ref, attempts, willRetry }),
      ),
    )
  })

  async function flush(): Promise<void> {
    while (pending.size > 0 || running) {
      await Promise.allSettled([...pending, ...(running ? [running] : [])])
    }
  }

  async function stop(): Promise<void> {
    stopped = true
    if (timer) clearTimeout(timer)
    timer = undefined
    unsubscribe()
    await flush()
  }

  schedule()

  return {
    sweep,
    flush,
    stop,
    close: stop,
    get stopped() {
      return stopped
    },
  }
}
