import { fileURLToPath } from 'node:url'
import { describeLoadBalanced } from '@sessile/core/testing'
import { createStore } from '@sessile/drizzle'
import {
  dropMysqlTables,
  dropPgTables,
  MYSQL_URL,
  PG_URL,
  reachMysql,
  reachPg,
} from '@sessile/drizzle/testing'

const [pg, mysql] = await Promise.all([reachPg(), reachMysql()])

describeLoadBalanced('hono', {
  script: fileURLToPath(new URL('./fixtures/server.mjs', import.meta.url)),
  databases: [
    {
      name: 'PostgreSQL',
      url: PG_URL,
      skip: pg.skip,
      store: (table) => createStore(PG_URL, { table }),
      drop: dropPgTables,
    },
    {
      name: 'MariaDB',
      url: MYSQL_URL,
      skip: mysql.skip,
      store: (table) => createStore(MYSQL_URL, { table }),
      drop: dropMysqlTables,
    },
  ],
})
