/** How a failing callback is retried in-process. */
export interface RetryPolicy {
  /** Attempts after the first one. */
  retries: number
  /** Delay before the first retry in ms; it doubles for each further retry. */
  retryDelay: number
}

/** A retry never waits longer than this, however many retries are configured. */
export const MAX_RETRY_DELAY = 60_000

/** The wait before retry number `retry` (1-based): exponential backoff, capped. */
export function backoff(policy: RetryPolicy, retry: number): number {
  return Math.min(MAX_RETRY_DELAY, policy.retryDelay * 2 ** (retry - 1))
}

const wait = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms))

/**
 * Run `fn` until it succeeds or the retries are spent. Every failed attempt is passed to `failed`
 * (with whether another attempt follows); nothing is ever thrown, so a callback can never become
 * an unhandled rejection or stop the caller's loop. Resolves to whether `fn` succeeded.
 */
export async function withRetry(
  fn: () => unknown,
  policy: RetryPolicy,
  failed: (error: unknown, attempts: number, willRetry: boolean) => void,
): Promise<boolean> {
  for (let attempt = 1; ; attempt++) {
    try {
      await fn()
      return true
    } catch (error) {
      const willRetry = attempt <= policy.retries
      failed(error, attempt, willRetry)
      if (!willRetry) return false
      await wait(backoff(policy, attempt))
    }
  }
}

/** Run `task` over `items` with at most `limit` running at once; resolves when all are done. */
export async function eachLimit<T>(
  items: readonly T[],
  limit: number,
  task: (item: T) => Promise<void>,
): Promise<void> {
  let next = 0
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const item = items[next++] as T
      await task(item)
    }
  }
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker))
}
