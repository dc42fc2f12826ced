import { randomBytes } from 'node:crypto'
import { describeHttpAdapter } from '@sessile/core/testing'
import { createStore } from '@sessile/drizzle'
import { dropMysqlTables, MYSQL_URL, reachMysql } from '@sessile/drizzle/testing'
import { afterAll } from 'vitest'
import { contractApp, listen } from './app.js'

const reach = await reachMysql()
const tables: string[] = []
afterAll(async () => {
  for (const t of tables) await dropMysqlTables(t)
})

describeHttpAdapter('hono on MariaDB', {
  skip: reach.skip,
  store: () => {
    const table = `sessile_hono_http_${randomBytes(5).toString('hex')}`
    tables.push(table)
    return createStore(MYSQL_URL, { table })
  },
  start: async (sessions) => listen(contractApp(sessions)),
})
