import { fileURLToPath } from 'node:url'
import { describeLoadBalanced } from '@sessile/core/testing'
import { createStore } from '@sessile/drizzle'
import { dropMysqlTable, dropPgTable, MYSQL_URL, mysqlReachability, PG_URL, pgReachability } from './db.js'

const [pg, mysql] = await Promise.all([pgReachability(), mysqlReachability()])

describeLoadBalanced('express', {
  script: fileURLToPath(new URL('./fixtures/server.mjs', import.meta.url)),
  databases: [
    {
      name: 'PostgreSQL',
      url: PG_URL,
      skip: pg.skip,
      store: (table) => createStore(PG_URL, { table }),
      drop: dropPgTable,
    },
    {
      name: 'MariaDB',
      url: MYSQL_URL,
      skip: mysql.skip,
      store: (table) => createStore(MYSQL_URL, { table }),
      drop: dropMysqlTable,
    },
  ],
})
