import { defineProject } from 'vitest/config'

// The reliability suite, run by `pnpm test` with every other package. Fault tests (which
// terminate connections and restart the PostgreSQL server) live in test/faults and run only
// through vitest.faults.config.ts, in their own CI step after everything else.
export default defineProject({
  resolve: { conditions: ['dev-source'] },
  ssr: { resolve: { conditions: ['dev-source'] } },
  test: {
    globalSetup: ['./src/global-setup.ts'],
    env: { SESSILE_FIGURES_PROJECT: 'reliability' },
    name: 'reliability',
    include: ['test/**/*.test.ts'],
    exclude: ['test/faults/**', 'test/galera/**'],
    hookTimeout: 60_000,
    testTimeout: 120_000,
    // global.gc for the sustained-load test's heap figures (heap after a full collection).
    execArgv: ['--expose-gc'],
  },
})
