import { describeStore } from '@sessile/core/testing'
import { afterAll } from 'vitest'
import { pgStore } from '../src/pg.js'
import { PG_URL, uniqueTable } from './_helpers/env.js'
import { dropPgTables, reachPg } from './_helpers/reach.js'

const reach = await reachPg()
const table = uniqueTable()

afterAll(async () => {
  if (!reach.skip) await dropPgTables(table)
})

describeStore('postgres (postgres.js)', () => pgStore({ url: PG_URL, table, max: 4 }), { skip: reach.skip })
