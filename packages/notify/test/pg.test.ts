import { pgStore } from '@sessile/drizzle/pg'
import postgres from 'postgres'
import { PG_URL, reachPg, seedPg, uniqueTable } from './_sql/db.js'
import { describeNotifySql } from './_sql/suite.js'

const reach = await reachPg()
const table = uniqueTable()
let admin: postgres.Sql | undefined

describeNotifySql('PostgreSQL', {
  skip: reach.skip,
  async setup() {
    admin = postgres(PG_URL, {
      max: 1,
      onnotice: () => {},
      connection: { application_name: 'sessile-notify-test' },
    })
  },
  store: () => pgStore({ url: PG_URL, table, max: 4, applicationName: 'sessile-notify-test' }),
  seedExpired: (prefix, count, ref) =>
    seedPg(
      (text, params) => (admin as postgres.Sql).unsafe(text, params as never[]),
      table,
      prefix,
      count,
      ref,
    ),
  async teardown() {
    await admin?.unsafe(`DROP TABLE IF EXISTS "${table}"`)
    await admin?.end({ timeout: 5 })
  },
})
