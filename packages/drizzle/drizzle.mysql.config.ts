import { defineConfig } from 'drizzle-kit'

// pnpm drizzle-kit generate --config drizzle.mysql.config.ts
export default defineConfig({
  dialect: 'mysql',
  schema: './drizzle/schema/mysql.ts',
  out: './drizzle/mysql',
})
