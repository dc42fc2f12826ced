import { defineProject } from 'vitest/config'

// The standalone-Redis suite; the cluster suite has its own config (vitest.cluster.config.ts),
// run by `pnpm --filter @sessile/redis test:cluster` in the cluster step of `.ci/run`.
export default defineProject({
  resolve: { conditions: ['dev-source'] },
  ssr: { resolve: { conditions: ['dev-source'] } },
  test: {
    name: 'redis',
    include: ['test/*.test.ts'],
    hookTimeout: 60_000,
    testTimeout: 30_000,
  },
})
