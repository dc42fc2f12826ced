// The table drizzle-kit generates drizzle/mysql from (MySQL 8, MariaDB 10.6+).
import { mysqlSessionsTable } from '../../src/_internal/mysql/table.js'

export const sessions = mysqlSessionsTable('sessions')
