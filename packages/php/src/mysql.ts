import { SessionError, type SessionRef, type SessionStore } from '@sessile/core'
import type { Pool, PoolConnection, ResultSetHeader, RowDataPacket } from 'mysql2/promise'
import { type Dialect, type Row, sqlStore } from './_internal/sql-store.js'
import { type PhpColumns, type PhpStoreOptions, resolveTable } from './table.js'

export { ADODB_SESSIONS2, PHP_SESSION_TABLE, type PhpColumns, type PhpStoreOptions } from './table.js'

export interface PhpMysqlStoreOptions extends PhpStoreOptions {
  /** A mysql2/promise pool to use (the store does not end it). Either this or `url`. */
  pool?: Pool
  /** A connection URL; the store opens (and on close ends) its own pool. */
  url?: string
  /**
   * Largest stored payload in bytes.
   * @default 4194304
   */
  maxDataBytes?: number
}

const q = (name: string) => `\`${name}\``
const BINARY_TYPES = new Set(['blob', 'tinyblob', 'mediumblob', 'longblob', 'binary', 'varbinary'])

/**
 * A store over a PHP app's session table on MySQL or MariaDB: ADOdb's `sessions2` by default, or
 * any table through `columns`. It reads and writes PHP's bytes, so both apps share each session.
 *
 * @example
 * const store = await phpMysqlStore({ url: 'mysql://root@127.0.0.1/app' })
 * const sessions = createSessions({ store, ids: phpIds(), acceptIds: [], ref: (d) => d.userId ?? null })
 */
export async function phpMysqlStore(options: PhpMysqlStoreOptions): Promise<SessionStore> {
  const t = resolveTable('php-mysql', options)
  if (!options.pool && typeof options.url !== 'string')
    throw new SessionError('E_OPTION', 'php-mysql', 'give pool (a mysql2/promise pool) or url')
  const own = !options.pool
  const pool: Pool =
    options.pool ??
    (await import('mysql2/promise')).createPool({ uri: options.url as string, connectionLimit: 4 })
  const c = t.columns
  const T = q(t.table)
  const K = q(c.key)
  const D = q(c.data)
  const expiryExpr = c.expiry
    ? q(c.expiry)
    : `(${q(c.modified as string)} + INTERVAL ${t.lifetime} * 1000 MICROSECOND)`
  const createdCol = q((c.created ?? c.modified ?? c.expiry) as string)
  const modifiedCol = q((c.modified ?? c.created ?? c.expiry) as string)
  const epoch = (e: string) => `(UNIX_TIMESTAMP(${e}) * 1000)`
  const hash = `CAST(CONV(SUBSTR(MD5(${D}), 1, 12), 16, 10) AS UNSIGNED)`
  const live = `${expiryExpr} >= NOW()`
  // ADOdb compares keys with BINARY: the column's collation may fold case.
  const keyEq = `${K} = ? AND BINARY ${K} = BINARY ?`
  const refSel = c.ref ? q(c.ref) : 'NULL'
  const cols = `${K} AS k, ${D} AS d, ${refSel} AS r, ${epoch(createdCol)} AS c, ${epoch(modifiedCol)} AS m, ${epoch(
    expiryExpr,
  )} AS e, ${hash} AS v, ${epoch('NOW()')} AS n`
  const newExpiry = (maxAge: boolean) =>
    maxAge && c.created
      ? `LEAST(NOW() + INTERVAL ? * 1000 MICROSECOND, ${q(c.created)} + INTERVAL ? * 1000 MICROSECOND)`
      : 'NOW() + INTERVAL ? * 1000 MICROSECOND'

  if (t.createTable) await createTable(pool, t.table, c)
  let binary: boolean | undefined
  const rows = async (text: string, params: unknown[] = [], conn: Pool | PoolConnection = pool) =>
    (await conn.query<RowDataPacket[]>(text, params))[0] as Record<string, unknown>[]
  const exec = async (text: string, params: unknown[] = [], conn: Pool | PoolConnection = pool) =>
    (await conn.query<ResultSetHeader>(text, params))[0].affectedRows
  const toRow = (r: Record<string, unknown>): Row => ({
    key: String(r.k),
    data: typeof r.d === 'string' ? Buffer.from(r.d, 'utf8') : Buffer.from(r.d as Uint8Array),
    ref: r.r === null || r.r === undefined ? null : String(r.r),
    created: Number(r.c),
    modified: Number(r.m),
    expiry: Number(r.e),
    version: Number(r.v),
    now: Number(r.n),
  })
  const param = (b: Buffer): Buffer | string => (binary ? b : b.toString('utf8'))

  const insertCols = [K, D]
  const insertVals = ['?', '?']
  const insertParams = (key: string, data: Buffer, ref: string, ttl: number) => {
    const p: unknown[] = [key, param(data)]
    if (c.ref) p.push(ref)
    if (c.expiry) p.push(ttl)
    return p
  }
  if (c.ref) {
    insertCols.push(q(c.ref))
    insertVals.push('?')
  }
  if (c.expiry) {
    insertCols.push(q(c.expiry))
    insertVals.push(newExpiry(false))
  }
  if (c.created) {
    insertCols.push(q(c.created))
    insertVals.push('NOW()')
  }
  if (c.modified) {
    insertCols.push(q(c.modified))
    insertVals.push('NOW()')
  }
  const insertSql = `INSERT INTO ${T} (${insertCols.join(', ')}) VALUES (${insertVals.join(', ')})`

  /** Delete each candidate only while it still matches; the affected-row count decides who reports it. */
  async function deleteEach(candidates: Record<string, unknown>[], extra: string): Promise<SessionRef[]> {
    const out: SessionRef[] = []
    for (const r of candidates) {
      const key = String(r.k)
      if ((await exec(`DELETE FROM ${T} WHERE ${keyEq}${extra}`, [key, key])) === 1)
        out.push({ key, ref: r.r === null ? null : String(r.r) })
    }
    return out
  }

  const dialect: Dialect = {
    name: 'mysql',
    async binary() {
      if (binary === undefined) {
        const r = await rows(
          'SELECT DATA_TYPE AS t FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = ? AND COLUMN_NAME = ?',
          [t.table, c.data],
        )
        if (!r[0]) throw new SessionError('E_STORE', 'php-mysql', `table ${t.table} has no column ${c.data}`)
        binary = BINARY_TYPES.has(String(r[0].t).toLowerCase())
      }
      return binary
    },
    async read(key) {
      const r = await rows(`SELECT ${cols} FROM ${T} WHERE ${keyEq} AND ${live}`, [key, key])
      return r[0] ? toRow(r[0]) : null
    },
    async insert(key, data, ref, ttl) {
      await exec(`DELETE FROM ${T} WHERE ${keyEq} AND NOT (${live})`, [key, key])
      try {
        await exec(insertSql, insertParams(key, data, ref, ttl))
        return true
      } catch (e) {
        if ((e as { errno?: number }).errno === 1062) return false
        throw e
      }
    },
    async upsert(key, data, ref, ttl) {
      // Assignments run left to right: `created` looks at the old expiry before it moves.
      const sets: string[] = []
      if (c.created) sets.push(`${q(c.created)} = IF(${expiryExpr} < NOW(), NOW(), ${q(c.created)})`)
      sets.push(`${D} = VALUES(${D})`)
      if (c.ref) sets.push(`${q(c.ref)} = VALUES(${q(c.ref)})`)
      if (c.expiry) sets.push(`${q(c.expiry)} = VALUES(${q(c.expiry)})`)
      if (c.modified) sets.push(`${q(c.modified)} = NOW()`)
      await exec(`${insertSql} ON DUPLICATE KEY UPDATE ${sets.join(', ')}`, insertParams(key, data, ref, ttl))
    },
    async update(r) {
      const sets = [`${D} = ?`]
      const params: unknown[] = [param(r.data)]
      if (c.ref) {
        sets.push(`${q(c.ref)} = ?`)
        params.push(r.ref)
      }
      if (!r.keepExpiry) {
        if (c.expiry) {
          sets.push(`${q(c.expiry)} = ${newExpiry(r.maxAge !== undefined)}`)
          params.push(r.ttl)
          if (r.maxAge !== undefined && c.created) params.push(r.maxAge)
        }
        if (c.modified) sets.push(`${q(c.modified)} = NOW()`)
      }
      params.push(r.key, r.key)
      let guard = ''
      if (r.version !== undefined) {
        guard = ` AND ${hash} = ?`
        params.push(r.version)
      }
      // The guard reads the old data: MySQL evaluates WHERE before SET.
      const n = await exec(`UPDATE ${T} SET ${sets.join(', ')} WHERE ${keyEq} AND ${live}${guard}`, params)
      if (n !== 1) return null
      const row = await rows(`SELECT ${hash} AS v, ${epoch(expiryExpr)} AS e FROM ${T} WHERE ${keyEq}`, [
        r.key,
        r.key,
      ])
      return row[0] ? { version: Number(row[0].v), expiry: Number(row[0].e) } : null
    },
    async touch(key, ttl, maxAge) {
      const params: unknown[] = []
      let set: string
      if (c.expiry) {
        set = `${q(c.expiry)} = ${newExpiry(maxAge !== undefined)}`
        params.push(ttl)
        if (maxAge !== undefined && c.created) params.push(maxAge)
      } else set = `${q(c.modified as string)} = NOW()`
      return (await exec(`UPDATE ${T} SET ${set} WHERE ${keyEq} AND ${live}`, [...params, key, key])) === 1
    },
    async destroy(key) {
      const r = await rows(`SELECT ${K} AS k, ${refSel} AS r FROM ${T} WHERE ${keyEq}`, [key, key])
      return (await deleteEach(r, ''))[0] ?? null
    },
    async sweep(limit) {
      const r = await rows(
        `SELECT ${K} AS k, ${refSel} AS r FROM ${T} WHERE NOT (${live}) ORDER BY ${expiryExpr} LIMIT ?`,
        [limit],
      )
      return deleteEach(r, ` AND NOT (${live})`)
    },
    async findByRef(ref) {
      if (!c.ref) return []
      return (
        await rows(`SELECT ${cols} FROM ${T} WHERE ${q(c.ref)} = ? AND ${live} ORDER BY c, k`, [ref])
      ).map(toRow)
    },
    async destroyByRef(ref) {
      if (!c.ref) return []
      const r = await rows(`SELECT ${K} AS k, ${refSel} AS r FROM ${T} WHERE ${q(c.ref)} = ?`, [ref])
      return deleteEach(r, ` AND ${q(c.ref)} = ${pool.escape(ref)}`)
    },
    async count() {
      return Number((await rows(`SELECT COUNT(*) AS n FROM ${T} WHERE ${live}`))[0]?.n)
    },
    async refs(limit) {
      if (!c.ref) return []
      const r = await rows(
        `SELECT DISTINCT ${q(c.ref)} AS r FROM ${T} WHERE ${live} AND ${q(c.ref)} <> '' ORDER BY BINARY ${q(c.ref)} LIMIT ?`,
        [limit],
      )
      return r.map((x) => String(x.r))
    },
    async list(limit, after) {
      const r = await rows(
        `SELECT ${cols} FROM ${T} WHERE ${live} AND (? IS NULL OR BINARY ${K} > BINARY ?) ORDER BY BINARY ${K} LIMIT ?`,
        [after ?? null, after ?? null, limit],
      )
      return r.map(toRow)
    },
    async clear() {
      await exec(`DELETE FROM ${T}`)
    },
    async now() {
      return Number((await rows(`SELECT ${epoch('NOW()')} AS n`))[0]?.n)
    },
    async close() {
      if (own) await pool.end()
    },
  }
  return sqlStore(t, dialect, options.maxDataBytes ?? 4 * 1024 * 1024)
}

/** ADOdb's sessions2 schema (session_schema2.xml) as MySQL DDL; nothing if the table exists. */
async function createTable(pool: Pool, table: string, c: Required<PhpColumns>): Promise<void> {
  const col = (n: string | null, type: string) => (n ? `, ${q(n)} ${type}` : '')
  const index = (n: string | null) => (n ? `, INDEX (${q(n)})` : '')
  await pool.query(
    `CREATE TABLE IF NOT EXISTS ${q(table)} (${q(c.key)} VARCHAR(64) NOT NULL PRIMARY KEY${col(c.expiry, 'DATETIME NOT NULL')}${col(
      c.created,
      'DATETIME NOT NULL',
    )}${col(c.modified, 'DATETIME NOT NULL')}${col(c.ref, 'VARCHAR(250)')}, ${q(c.data)} LONGTEXT NOT NULL${index(c.expiry)}${index(c.ref)})`,
  )
}
