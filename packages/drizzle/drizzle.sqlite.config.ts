import { defineConfig } from 'drizzle-kit'

// pnpm drizzle-kit generate --config drizzle.sqlite.config.ts
export default defineConfig({
  dialect: 'sqlite',
  schema: './drizzle/schema/sqlite.ts',
  out: './drizzle/sqlite',
})
