import { defineProject } from 'vitest/config'

// Runs against the loopback cluster that scripts/cluster.sh starts (REDIS_CLUSTER_NODES).
export default defineProject({
  resolve: { conditions: ['dev-source'] },
  ssr: { resolve: { conditions: ['dev-source'] } },
  test: {
    name: 'redis-cluster',
    include: ['test/cluster/*.test.ts'],
    hookTimeout: 120_000,
    testTimeout: 120_000,
    fileParallelism: false,
  },
})
