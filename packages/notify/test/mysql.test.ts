import { mysqlStore } from '@sessile/drizzle/mysql'
import mysql from 'mysql2/promise'
import { MYSQL_URL, reachMysql, seedMysql, uniqueTable } from './_sql/db.js'
import { describeNotifySql } from './_sql/suite.js'

const reach = await reachMysql()
const table = uniqueTable()
let admin: mysql.Connection | undefined

describeNotifySql('MariaDB/MySQL', {
  skip: reach.skip,
  async setup() {
    admin = await mysql.createConnection({ uri: MYSQL_URL })
  },
  store: () => mysqlStore({ url: MYSQL_URL, table, connectionLimit: 4 }),
  seedExpired: (prefix, count, ref) => seedMysql(admin as mysql.Connection, table, prefix, count, ref),
  async teardown() {
    await admin?.query(`DROP TABLE IF EXISTS \`${table}\``)
    await admin?.end()
  },
})
