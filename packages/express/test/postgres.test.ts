import { describeHttpAdapter } from '@sessile/core/testing'
import { pgTables, reachPg } from '@sessile/drizzle/testing'
import { afterAll } from 'vitest'
import { contractApp, listen } from '../src/testing.js'

const reach = await reachPg()
const tables = pgTables('sessile_express_http')
afterAll(() => tables.dropAll())

describeHttpAdapter('express on PostgreSQL', {
  skip: reach.skip,
  store: () => tables.direct(),
  start: async (sessions) => listen(contractApp(sessions).app),
  outage: {
    store: () => tables.proxied(),
    cut: () => tables.proxy?.cut(),
    restore: () => tables.proxy?.restore(),
  },
})
