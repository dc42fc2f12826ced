/**
 * The two SQL databases every reliability test runs on, with the reachability decided once per
 * file (skip loudly locally, fail under CI=true) and a store factory on a table of the test's own.
 */
import type { SqlSessionStore } from '@sessile/drizzle'
import { mysqlStore } from '@sessile/drizzle/mysql'
import { pgStore } from '@sessile/drizzle/pg'
import {
  dropMysqlTables,
  dropPgTables,
  MYSQL_URL,
  PG_URL,
  reachMysql,
  reachPg,
} from '@sessile/drizzle/testing'

export interface Db {
  name: 'PostgreSQL' | 'MariaDB'
  /** The database is unreachable and this is not CI: the describe skips (loudly). */
  skip: boolean
  /** A store on `table` with a pool of `pool` connections (the file's choice, unless given). */
  store(table: string, pool?: number): SqlSessionStore
  drop(table: string): Promise<void>
}

/** PostgreSQL and MariaDB, each with stores of `pool` connections. */
export async function databases(pool: number): Promise<[Db, Db]> {
  const [pg, my] = await Promise.all([reachPg(), reachMysql()])
  return [
    {
      name: 'PostgreSQL',
      skip: pg.skip,
      store: (table, size = pool) => pgStore({ url: PG_URL, table, max: size }),
      drop: (table) => dropPgTables(table),
    },
    {
      name: 'MariaDB',
      skip: my.skip,
      store: (table, size = pool) => mysqlStore({ url: MYSQL_URL, table, connectionLimit: size }),
      drop: (table) => dropMysqlTables(table),
    },
  ]
}
