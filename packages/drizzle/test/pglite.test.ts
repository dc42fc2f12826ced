import { PGlite } from '@electric-sql/pglite'
import { describeStore } from '@sessile/core/testing'
import { afterAll, beforeAll } from 'vitest'
import { pgliteStore } from '../src/pglite.js'
import { uniqueTable } from './_helpers/env.js'

// PGlite takes seconds to start: one instance for the whole file.
let client: PGlite
const table = uniqueTable()

beforeAll(async () => {
  client = await PGlite.create()
}, 60_000)
afterAll(async () => {
  await client.close()
})

describeStore('pglite', () => pgliteStore({ client, table }))
