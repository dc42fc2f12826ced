// The table drizzle-kit generates drizzle/sqlite from (SQLite and libSQL).
import { sqliteSessionsTable } from '../../src/_internal/sqlite/table.js'

export const sessions = sqliteSessionsTable('sessions')
