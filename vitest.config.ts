import { defineConfig } from 'vitest/config'

// Every package (and the cross-cutting reliability suite) is a project of its own.
// Fault tests restart database servers, so they are a separate project that
// `pnpm test:faults` runs in its own step, never beside the other suites.
export default defineConfig({
  test: {
    projects: ['packages/*/vitest.config.ts'],
  },
})
