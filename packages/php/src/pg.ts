import { SessionError, type SessionRef, type SessionStore } from '@sessile/core'
import type postgres from 'postgres'
import { type Dialect, type Row, sqlStore } from './_internal/sql-store.js'
import { type PhpStoreOptions, resolveTable } from './table.js'

export { ADODB_SESSIONS2, PHP_SESSION_TABLE, type PhpColumns, type PhpStoreOptions } from './table.js'

export interface PhpPgStoreOptions extends PhpStoreOptions {
  /** A postgres.js client to use (the store does not end it). Either this or `url`. */
  sql?: postgres.Sql
  /** A connection URL; the store opens (and on close ends) its own client. */
  url?: string
  /**
   * Largest stored payload in bytes.
   * @default 4194304
   */
  maxDataBytes?: number
}

const q = (name: string) => `"${name}"`

/**
 * A store over a PHP app's session table on PostgreSQL: ADOdb's `sessions2` by default, or any
 * table through `columns`. It reads and writes PHP's bytes, so both apps share each session.
 *
 * @example
 * const store = await phpPgStore({ url: process.env.DATABASE_URL, codec: { serializer: 'php' } })
 * const sessions = createSessions({ store, ids: phpIds(), acceptIds: [], ref: (d) => d.userId ?? null })
 */
export async function phpPgStore(options: PhpPgStoreOptions): Promise<SessionStore> {
  const t = resolveTable('php-pg', options)
  if (!options.sql && typeof options.url !== 'string')
    throw new SessionError('E_OPTION', 'php-pg', 'give sql (a postgres.js client) or url')
  const own = !options.sql
  const sql: postgres.Sql =
    options.sql ?? (await import('postgres')).default(options.url as string, { max: 4, onnotice: () => {} })
  const c = t.columns
  const T = q(t.table)
  const K = q(c.key)
  const D = q(c.data)
  const life = t.lifetime
  const expiryOf = (p: string) =>
    c.expiry ? `${p}${q(c.expiry)}` : `(${p}${q(c.modified as string)} + ${life} * interval '1 millisecond')`
  const expiryExpr = expiryOf('')
  const createdCol = c.created ?? c.modified ?? c.expiry
  const modifiedCol = c.modified ?? c.created ?? c.expiry
  const epoch = (e: string) => `(extract(epoch from (${e})::timestamptz) * 1000)::float8`
  const hash = `('x' || substr(md5(${D}), 1, 12))::bit(48)::bigint::float8`
  const live = `${expiryExpr} >= now()`
  const refSel = c.ref ? q(c.ref) : 'NULL::text'
  const cols = `${K} AS k, ${D} AS d, ${refSel} AS r, ${epoch(q(createdCol as string))} AS c, ${epoch(
    q(modifiedCol as string),
  )} AS m, ${epoch(expiryExpr)} AS e, ${hash} AS v, ${epoch('now()')} AS n`
  const newExpiry = (ttlParam: string, maxAgeParam?: string) => {
    const base = `now() + ${ttlParam}::float8 * interval '1 millisecond'`
    return maxAgeParam && c.created
      ? `LEAST(${base}, ${q(c.created)} + ${maxAgeParam}::float8 * interval '1 millisecond')`
      : base
  }

  if (t.createTable) await createTable(sql, t.table, c)
  let binary: boolean | undefined
  const run = (text: string, params: unknown[] = []) =>
    sql.unsafe(text, params as never[]) as unknown as Promise<Record<string, unknown>[]>
  const toRow = (r: Record<string, unknown>): Row => ({
    key: r.k as string,
    data: typeof r.d === 'string' ? Buffer.from(r.d, 'utf8') : Buffer.from(r.d as Uint8Array),
    ref: (r.r as string | null) ?? null,
    created: r.c as number,
    modified: r.m as number,
    expiry: r.e as number,
    version: r.v as number,
    now: r.n as number,
  })
  const param = (b: Buffer): Buffer | string => (binary ? b : b.toString('utf8'))
  const refs = (rows: Record<string, unknown>[]): SessionRef[] =>
    rows.map((r) => ({ key: r.k as string, ref: (r.r as string | null) ?? null }))

  // Insert columns: what a PHP handler would write for a new session.
  const insertCols = [K, D]
  const insertVals = ['$1', '$2']
  if (c.ref) {
    insertCols.push(q(c.ref))
    insertVals.push('$3')
  }
  if (c.expiry) {
    insertCols.push(q(c.expiry))
    insertVals.push(newExpiry(c.ref ? '$4' : '$3'))
  }
  // Only the parameters the statement names: PostgreSQL cannot type an unused one.
  const insertParams = (key: string, data: Buffer, ref: string, ttl: number): unknown[] => {
    const p: unknown[] = [key, param(data)]
    if (c.ref) p.push(ref)
    if (c.expiry) p.push(ttl)
    return p
  }
  if (c.created) {
    insertCols.push(q(c.created))
    insertVals.push('now()')
  }
  if (c.modified) {
    insertCols.push(q(c.modified))
    insertVals.push('now()')
  }
  const insertSql = `INSERT INTO ${T} (${insertCols.join(', ')}) VALUES (${insertVals.join(', ')})`

  const dialect: Dialect = {
    name: 'pg',
    async binary() {
      if (binary === undefined) {
        const rows = await run(
          'SELECT data_type FROM information_schema.columns WHERE table_name = $1 AND column_name = $2 AND table_schema = ANY (current_schemas(false))',
          [t.table, c.data],
        )
        if (!rows[0]) throw new SessionError('E_STORE', 'php-pg', `table ${t.table} has no column ${c.data}`)
        binary = rows[0].data_type === 'bytea'
      }
      return binary
    },
    async read(key) {
      const rows = await run(`SELECT ${cols} FROM ${T} WHERE ${K} = $1 AND ${live}`, [key])
      return rows[0] ? toRow(rows[0]) : null
    },
    async insert(key, data, ref, ttl) {
      await run(`DELETE FROM ${T} WHERE ${K} = $1 AND NOT (${live})`, [key])
      const rows = await run(
        `${insertSql} ON CONFLICT (${K}) DO NOTHING RETURNING 1 AS ok`,
        insertParams(key, data, ref, ttl),
      )
      return rows.length === 1
    },
    async upsert(key, data, ref, ttl) {
      const sets = [`${D} = EXCLUDED.${D}`]
      if (c.ref) sets.push(`${q(c.ref)} = EXCLUDED.${q(c.ref)}`)
      if (c.created)
        sets.push(
          `${q(c.created)} = CASE WHEN ${expiryOf(`${T}.`)} < now() THEN now() ELSE ${T}.${q(c.created)} END`,
        )
      if (c.expiry) sets.push(`${q(c.expiry)} = EXCLUDED.${q(c.expiry)}`)
      if (c.modified) sets.push(`${q(c.modified)} = now()`)
      await run(
        `${insertSql} ON CONFLICT (${K}) DO UPDATE SET ${sets.join(', ')}`,
        insertParams(key, data, ref, ttl),
      )
    },
    async update(r) {
      const sets = [`${D} = $2`]
      const params: unknown[] = [r.key, param(r.data), r.ref, r.ttl, r.maxAge ?? null, r.version ?? null]
      if (c.ref) sets.push(`${q(c.ref)} = $3`)
      if (!r.keepExpiry) {
        if (c.expiry)
          sets.push(`${q(c.expiry)} = ${newExpiry('$4', r.maxAge === undefined ? undefined : '$5')}`)
        if (c.modified) sets.push(`${q(c.modified)} = now()`)
      }
      const guard = r.version === undefined ? '$6::float8 IS NULL' : `${hash} = $6::float8`
      const typed = c.ref ? '' : ' AND $3::text IS NOT NULL'
      const rows = await run(
        `UPDATE ${T} SET ${sets.join(', ')} WHERE ${K} = $1 AND ${live} AND ${guard}${typed} AND $4::float8 > 0 AND ($5::float8 IS NULL OR true) RETURNING ${hash} AS v, ${epoch(expiryExpr)} AS e`,
        params,
      )
      return rows[0] ? { version: rows[0].v as number, expiry: rows[0].e as number } : null
    },
    async touch(key, ttl, maxAge) {
      const set = c.expiry
        ? `${q(c.expiry)} = ${newExpiry('$2', maxAge === undefined ? undefined : '$3')}`
        : `${q(c.modified as string)} = now()`
      const rows = await run(
        `UPDATE ${T} SET ${set} WHERE ${K} = $1 AND ${live} AND $2::float8 > 0 AND ($3::float8 IS NULL OR true) RETURNING 1 AS ok`,
        [key, ttl, maxAge ?? null],
      )
      return rows.length === 1
    },
    async destroy(key) {
      const rows = await run(`DELETE FROM ${T} WHERE ${K} = $1 RETURNING ${K} AS k, ${refSel} AS r`, [key])
      return refs(rows)[0] ?? null
    },
    async sweep(limit) {
      const rows = await run(
        `DELETE FROM ${T} WHERE ${K} IN (SELECT ${K} FROM ${T} WHERE NOT (${live}) ORDER BY ${expiryExpr} LIMIT $1 FOR UPDATE SKIP LOCKED) AND NOT (${live}) RETURNING ${K} AS k, ${refSel} AS r`,
        [limit],
      )
      return refs(rows)
    },
    async findByRef(ref) {
      if (!c.ref) return []
      return (
        await run(`SELECT ${cols} FROM ${T} WHERE ${q(c.ref)} = $1 AND ${live} ORDER BY 4, 1`, [ref])
      ).map(toRow)
    },
    async destroyByRef(ref) {
      if (!c.ref) return []
      return refs(
        await run(`DELETE FROM ${T} WHERE ${q(c.ref)} = $1 RETURNING ${K} AS k, ${refSel} AS r`, [ref]),
      )
    },
    async count() {
      const rows = await run(`SELECT count(*)::float8 AS n FROM ${T} WHERE ${live}`)
      return rows[0]?.n as number
    },
    async refs(limit) {
      if (!c.ref) return []
      const rows = await run(
        `SELECT DISTINCT ${q(c.ref)} AS r FROM ${T} WHERE ${live} AND ${q(c.ref)} <> '' ORDER BY 1 LIMIT $1`,
        [limit],
      )
      return rows.map((r) => r.r as string)
    },
    async list(limit, after) {
      const rows = await run(
        `SELECT ${cols} FROM ${T} WHERE ${live} AND ($2::text IS NULL OR ${K} COLLATE "C" > $2::text) ORDER BY ${K} COLLATE "C" LIMIT $1`,
        [limit, after ?? null],
      )
      return rows.map(toRow)
    },
    async clear() {
      await run(`DELETE FROM ${T}`)
    },
    async now() {
      const rows = await run(`SELECT ${epoch('now()')} AS n`)
      return rows[0]?.n as number
    },
    async close() {
      if (own) await sql.end({ timeout: 5 })
    },
  }
  return sqlStore(t, dialect, options.maxDataBytes ?? 4 * 1024 * 1024)
}

/** ADOdb's sessions2 schema (session_schema2.xml) as PostgreSQL DDL; nothing if the table exists. */
async function createTable(
  sql: postgres.Sql,
  table: string,
  c: PhpStoreOptions['columns'] & object,
): Promise<void> {
  const col = (n: string | null | undefined, type: string) => (n ? `, ${q(n)} ${type}` : '')
  await sql.unsafe(
    `CREATE TABLE IF NOT EXISTS ${q(table)} (${q(c.key)} VARCHAR(64) NOT NULL PRIMARY KEY${col(c.expiry, 'TIMESTAMP NOT NULL')}${col(
      c.created,
      'TIMESTAMP NOT NULL',
    )}${col(c.modified, 'TIMESTAMP NOT NULL')}${col(c.ref, 'VARCHAR(250)')}, ${q(c.data)} TEXT NOT NULL)`,
  )
  if (c.expiry)
    await sql.unsafe(`CREATE INDEX IF NOT EXISTS ${q(`${table}_expiry`)} ON ${q(table)} (${q(c.expiry)})`)
  if (c.ref) await sql.unsafe(`CREATE INDEX IF NOT EXISTS ${q(`${table}_ref`)} ON ${q(table)} (${q(c.ref)})`)
}
