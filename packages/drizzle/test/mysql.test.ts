import { describeStore } from '@sessile/core/testing'
import { afterAll } from 'vitest'
import { mysqlStore } from '../src/mysql.js'
import { MYSQL_URL, uniqueTable } from './_helpers/env.js'
import { dropMysqlTables, reachMysql } from './_helpers/reach.js'

const reach = await reachMysql()
const table = uniqueTable()

afterAll(async () => {
  if (!reach.skip) await dropMysqlTables(table)
})

describeStore('mariadb (mysql2)', () => mysqlStore({ url: MYSQL_URL, table, connectionLimit: 4 }), {
  skip: reach.skip,
})
