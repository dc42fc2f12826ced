export { dropMysqlTables, dropPgTables, reachMysql, reachPg } from '../../src/testing.js'
