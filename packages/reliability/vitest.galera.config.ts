import { defineConfig } from 'vitest/config'

// Figures of this run go to .figures/galera.jsonl (the workers inherit this).
process.env.SESSILE_FIGURES_PROJECT = 'galera'

// The cluster suites (`pnpm --filter @sessile/reliability test:galera`): a 3-node Galera cluster
// of scripts/galera-cluster.sh on loopback, started here unless one runs (CI starts it in its own
// step). One file at a time: the fault test kills a node, and the machine is small.
export default defineConfig({
  resolve: { conditions: ['dev-source'] },
  ssr: { resolve: { conditions: ['dev-source'] } },
  test: {
    globalSetup: ['./src/galera-setup.ts'],
    env: { SESSILE_FIGURES_PROJECT: 'galera' },
    name: 'galera',
    include: ['test/galera/**/*.test.ts'],
    fileParallelism: false,
    hookTimeout: 180_000,
    testTimeout: 300_000,
  },
})
