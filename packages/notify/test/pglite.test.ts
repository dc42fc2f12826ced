import { PGlite } from '@electric-sql/pglite'
import { pgliteStore } from '@sessile/drizzle/pglite'
import { seedPg, uniqueTable } from './_sql/db.js'
import { describeNotifySql } from './_sql/suite.js'

// PGlite takes seconds to start: one instance for the file, shared by the three "servers".
let client: PGlite | undefined
const table = uniqueTable()
const db = (): PGlite => client as PGlite

describeNotifySql('PGlite', {
  skip: false,
  async setup() {
    client = await PGlite.create()
  },
  store: () => pgliteStore({ client: db(), table }),
  seedExpired: (prefix, count, ref) =>
    seedPg((text, params) => db().query(text, params), table, prefix, count, ref),
  async teardown() {
    await client?.close()
  },
})
