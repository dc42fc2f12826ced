import { randomBytes } from 'node:crypto'
import { readFileSync } from 'node:fs'
import postgres from 'postgres'
import { afterAll, describe, expect, it } from 'vitest'
import { mysqlDdl } from '../src/_internal/mysql/sql.js'
import { pgDdl } from '../src/_internal/pg/sql.js'
import { mysqlStore } from '../src/mysql.js'
import { pgStore } from '../src/pg.js'
import { type Admin, mysqlAdmin, pgAdmin } from './_helpers/admin.js'
import { bytes, HOUR, MYSQL_URL, PG_URL, uniqueTable } from './_helpers/env.js'
import { reachMysql, reachPg } from './_helpers/reach.js'

const pgReach = await reachPg()
const mysqlReach = await reachMysql()
const read = (path: string) => readFileSync(new URL(path, import.meta.url), 'utf8')
const statements = (sql: string) =>
  sql
    .replace(/^--.*$/gm, '')
    .split(/;|--> statement-breakpoint/)
    .map((s) => s.replace(/\s+/g, ' ').trim())
    .filter((s) => s.length > 0)

describe('the shipped DDL is the DDL the stores run', () => {
  it('docs/sql/postgresql.sql equals ensureSchema on PostgreSQL', () => {
    expect(statements(read('../../../docs/sql/postgresql.sql'))).toEqual(
      statements(pgDdl('sessions', undefined).join(';')),
    )
  })
  it('docs/sql/mysql.sql equals ensureSchema on MySQL', () => {
    expect(statements(read('../../../docs/sql/mysql.sql'))).toEqual(statements(mysqlDdl('sessions')))
  })
})

describe.skipIf(pgReach.skip)('drizzle-kit migration drizzle/pg', () => {
  const schema = `sessile_mig_${randomBytes(4).toString('hex')}`
  const ensured = uniqueTable('mig')
  const admin: Admin = pgAdmin()
  afterAll(async () => {
    await admin.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`)
    await admin.dropTable(ensured)
    await admin.close()
  })

  const describeColumns = (table: string, inSchema: string) =>
    admin.query(
      `SELECT column_name, data_type, collation_name, datetime_precision, character_maximum_length, is_nullable
       FROM information_schema.columns WHERE table_schema = ${inSchema} AND table_name = $1 ORDER BY column_name`,
      [table],
    )

  it('creates the same table as ensureSchema, and the store runs on it with createTable: false', async () => {
    await admin.query(`CREATE SCHEMA "${schema}"`)
    // A connection whose search_path is the fresh schema runs the migration exactly as written.
    const migrator = postgres(PG_URL, { max: 1, onnotice: () => {}, connection: { search_path: schema } })
    try {
      for (const s of statements(read('../drizzle/pg/0000_sessions.sql'))) await migrator.unsafe(s)
    } finally {
      await migrator.end({ timeout: 1 })
    }
    const migrated = await admin.query(
      `SELECT count(*)::int AS n FROM information_schema.tables WHERE table_schema = $1 AND table_name = 'sessions'`,
      [schema],
    )
    expect(migrated[0]?.n).toBe(1)
    const own = pgStore({ url: PG_URL, table: ensured, max: 1 })
    await own.ensureSchema()
    await own.close()
    const a = await describeColumns('sessions', `'${schema}'`)
    const b = await describeColumns(ensured, 'current_schema()')
    expect(a.length).toBe(9)
    expect(a).toEqual(b)

    const store = pgStore({ url: PG_URL, schema, createTable: false, max: 1 })
    const w = await store.write({ key: 'k', data: bytes('x'), ref: 'r', mode: 'insert', ttl: HOUR })
    expect(w.ok).toBe(true)
    expect((await store.findByRef('r')).map((s) => s.key)).toEqual(['k'])
    await store.close()
  })
})

describe.skipIf(mysqlReach.skip)('drizzle-kit migration drizzle/mysql', () => {
  const migratedTable = uniqueTable('mig')
  const ensured = uniqueTable('mig')
  const admin: Admin = mysqlAdmin()
  afterAll(async () => {
    await admin.dropTable(migratedTable)
    await admin.dropTable(ensured)
    await admin.close()
  })

  it('creates the same table as ensureSchema, and the store runs on it with createTable: false', async () => {
    for (const s of statements(read('../drizzle/mysql/0000_sessions.sql'))) {
      await admin.query(s.split('`sessions`').join(`\`${migratedTable}\``))
    }
    const own = mysqlStore({ url: MYSQL_URL, table: ensured, connectionLimit: 1 })
    await own.ensureSchema()
    await own.close()
    const columns = (t: string) => admin.query(`SHOW FULL COLUMNS FROM \`${t}\``)
    const indexes = async (t: string) =>
      (await admin.query(`SHOW INDEX FROM \`${t}\``)).map((r) => `${r.Key_name}:${r.Column_name}`).sort()
    expect(await columns(migratedTable)).toEqual(await columns(ensured))
    expect(await indexes(migratedTable)).toEqual(await indexes(ensured))

    const store = mysqlStore({ url: MYSQL_URL, table: migratedTable, createTable: false, connectionLimit: 1 })
    const w = await store.write({ key: 'k', data: bytes('x'), ref: 'r', mode: 'insert', ttl: HOUR })
    expect(w.ok).toBe(true)
    expect((await store.findByRef('r')).map((s) => s.key)).toEqual(['k'])
    await store.close()
  })
})
