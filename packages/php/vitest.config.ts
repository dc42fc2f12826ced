import { defineProject } from 'vitest/config'

// The PHP interop suite (real php -S with ADOdb) is vitest.php.config.ts, its own CI step.
export default defineProject({
  resolve: { conditions: ['dev-source'] },
  ssr: { resolve: { conditions: ['dev-source'] } },
  test: { name: 'php', include: ['test/**/*.test.ts'], hookTimeout: 30_000, testTimeout: 60_000 },
})
