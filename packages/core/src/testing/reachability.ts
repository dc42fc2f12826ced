export interface Reachability {
  /** Pass to `describe.skipIf`: true when the suite must be skipped. */
  skip: boolean
  /** Why, for the loud message. */
  reason: string
}

/**
 * Decide what to do when a database a suite needs cannot be reached: locally the suite is
 * skipped with a loud warning; with `CI=true` the test run fails, never skips.
 */
export function dbUnavailable(name: string, error: unknown | null): Reachability {
  if (error === null) return { skip: false, reason: '' }
  const reason = `${name} is unreachable: ${error instanceof Error ? error.message : String(error)}`
  if (process.env.CI === 'true' || process.env.CI === '1') {
    throw new Error(`[sessile] ${reason} (CI=true: an unreachable database fails the run)`)
  }
  console.warn(`\n!!! [sessile] SKIPPING ${name} tests: ${reason}\n`)
  return { skip: true, reason }
}
