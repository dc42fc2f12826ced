// setTimeout fires at once for delays above 2^31 - 1 ms, which would turn a long interval into a busy loop.
const MAX_TIMER = 2_147_483_647

/**
 * The delay before the next scheduled sweep: `interval` spread evenly over
 * `[interval * (1 - jitter), interval * (1 + jitter)]`, so app servers started together do not
 * sweep in lockstep.
 */
export function jitteredDelay(interval: number, jitter: number, random: () => number = Math.random): number {
  const delay = interval * (1 - jitter + 2 * jitter * random())
  return Math.min(MAX_TIMER, Math.max(1, Math.round(delay)))
}
