// The whole store conformance suite against one node of the 3-node Galera cluster: every write
// replicates to the other two, and certification runs on every commit.
import { describeStore } from '@sessile/core/testing'
import { mysqlStore } from '@sessile/drizzle/mysql'
import { uniqueTable } from '@sessile/drizzle/testing'
import { afterAll } from 'vitest'
import { dropGaleraTables, nodeUrl, reachGalera } from '../../src/galera.js'

const reach = await reachGalera()
const table = uniqueTable('galera')

afterAll(async () => {
  if (!reach.skip) await dropGaleraTables(table)
})

describeStore('galera node 1 (mysql2)', () => mysqlStore({ url: nodeUrl(1), table, connectionLimit: 4 }), {
  skip: reach.skip,
})
