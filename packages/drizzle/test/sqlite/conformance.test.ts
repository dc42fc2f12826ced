import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describeStore } from '@sessile/core/testing'
import { afterAll } from 'vitest'
import { fileUrl } from '../../src/_internal/sqlite/open.js'
import { sqliteStore } from '../../src/sqlite.js'

// One directory for the file; each factory call opens a new connection to it, as another
// process would.
const dir = mkdtempSync(join(tmpdir(), 'sessile-sqlite-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

describeStore('sqlite (better-sqlite3, file)', () =>
  sqliteStore({ path: join(dir, 'better.db'), driver: 'better-sqlite3' }),
)
// A :memory: database belongs to its connection: a second store is a second database.
describeStore(
  'sqlite (better-sqlite3, :memory:)',
  () => sqliteStore({ path: ':memory:', driver: 'better-sqlite3' }),
  {
    shared: false,
  },
)
describeStore('sqlite (libsql, file)', () => sqliteStore({ url: fileUrl(join(dir, 'libsql.db')) }))
describeStore('sqlite (libsql, :memory:)', () => sqliteStore({ path: ':memory:', driver: 'libsql' }), {
  shared: false,
})
