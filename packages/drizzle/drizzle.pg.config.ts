import { defineConfig } from 'drizzle-kit'

// pnpm drizzle-kit generate --config drizzle.pg.config.ts
export default defineConfig({
  dialect: 'postgresql',
  schema: './drizzle/schema/pg.ts',
  out: './drizzle/pg',
})
