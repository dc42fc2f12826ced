// The table drizzle-kit generates drizzle/pg from (PostgreSQL and PGlite).
import { pgSessionsTable } from '../../src/_internal/pg/table.js'

export const sessions = pgSessionsTable('sessions')
