import { defineProject } from 'vitest/config'

export default defineProject({
  resolve: { conditions: ['dev-source'] },
  ssr: { resolve: { conditions: ['dev-source'] } },
  test: { name: 'drizzle', include: ['test/**/*.test.ts'], hookTimeout: 30_000, testTimeout: 30_000 },
})
