import { defineConfig } from 'vitest/config'

// Starts `php -S` servers with ADOdb against PostgreSQL and MariaDB: run by `.ci/run` as its own step.
export default defineConfig({
  resolve: { conditions: ['dev-source'] },
  ssr: { resolve: { conditions: ['dev-source'] } },
  test: {
    name: 'php-interop',
    include: ['interop/**/*.interop.ts'],
    hookTimeout: 60_000,
    testTimeout: 60_000,
    fileParallelism: false,
  },
})
