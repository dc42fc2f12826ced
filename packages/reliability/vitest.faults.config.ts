import { defineConfig } from 'vitest/config'

// Figures of this run go to .figures/reliability-faults.jsonl (the workers inherit this).
process.env.SESSILE_FIGURES_PROJECT = 'reliability-faults'

// `pnpm test:faults`: tests that break the databases on purpose. One file at a time, never beside
// another suite, because a server restart would break whatever else is running.
export default defineConfig({
  resolve: { conditions: ['dev-source'] },
  ssr: { resolve: { conditions: ['dev-source'] } },
  test: {
    globalSetup: ['./src/global-setup.ts'],
    env: { SESSILE_FIGURES_PROJECT: 'reliability-faults' },
    name: 'reliability-faults',
    include: ['test/faults/**/*.test.ts'],
    fileParallelism: false,
    hookTimeout: 120_000,
    testTimeout: 300_000,
  },
})
