import type { ReadResult } from '@sessile/core'
import { toBytes, toDate, toInt, toNullableText } from '../values.js'

/**
 * The SQLite statements. Times are INTEGER milliseconds since the epoch (UTC), computed by the
 * database in every statement, so no app clock decides an expiry (docs/sqlite.md).
 */

// julianday('now') keeps milliseconds and is the same value for the whole statement (SQLite
// fixes 'now' per step). It exists on every SQLite and libSQL version, unlike unixepoch('subsec').
const NOW = `CAST(ROUND((julianday('now') - 2440587.5) * 86400000.0) AS INTEGER)`
const COLS = 'key, data, ref, created, modified, expiry, version'
const INFO = 'key, ref, created, modified, expiry, version'
// What a read returns, in this order: `readResultOf` takes the values by position.
const READ = `data, ref, created, modified, expiry, version, ${NOW} AS now`

/** A statement with its named parameters turned into positional `?` once, at build time. */
export interface SqliteStatement {
  text: string
  names: readonly string[]
}

// The table name is arbitrary text (it may contain ':name'), so it goes in only after the
// parameters were found, through a marker no table name can contain (NUL is refused).
const TABLE = '\u0000table\u0000'

export const quoteSqlite = (name: string): string => `"${name.replace(/"/g, '""')}"`

function compile(table: string, named: string): SqliteStatement {
  const names: string[] = []
  const text = named.replace(/:([a-zA-Z]+)/g, (_, name: string) => {
    names.push(name)
    return '?'
  })
  return { text: text.split(TABLE).join(quoteSqlite(table)), names }
}

/** The positional values of a statement, from the request's named ones. */
export function bindSqlite(s: SqliteStatement, values: Record<string, unknown>): unknown[] {
  const out = new Array<unknown>(s.names.length)
  for (let i = 0; i < s.names.length; i++) out[i] = values[s.names[i] as string] ?? null
  return out
}

/** A read's row, as values in the column order of `READ`. */
export function readResultOf(key: string, v: unknown[]): ReadResult {
  return {
    key,
    data: toBytes(v[0]),
    ref: toNullableText(v[1]),
    created: toDate(v[2]),
    modified: toDate(v[3]),
    expiry: toDate(v[4]),
    version: toInt(v[5]),
    now: toDate(v[6]),
  }
}

/** DDL, kept in step with `sqliteSessionsTable` and docs/sql/sqlite.sql. */
export function sqliteDdl(table: string): string[] {
  const t = quoteSqlite(table)
  return [
    `CREATE TABLE IF NOT EXISTS ${t} (
  "key" text PRIMARY KEY NOT NULL,
  "data" blob NOT NULL,
  "ref" text,
  "created" integer NOT NULL,
  "modified" integer NOT NULL,
  "expiry" integer NOT NULL,
  "version" integer NOT NULL,
  "lease" text,
  "lease_expiry" integer
)`,
    `CREATE INDEX IF NOT EXISTS ${quoteSqlite(`${table}_ref_idx`)} ON ${t} ("ref")`,
    `CREATE INDEX IF NOT EXISTS ${quoteSqlite(`${table}_expiry_idx`)} ON ${t} ("expiry")`,
  ]
}

// SQLite's MIN() with a NULL argument is NULL, so a missing maxAge falls back to the idle expiry.
const nextExpiry = (created: string): string =>
  `MIN(${NOW} + :ttl, COALESCE(${created} + :maxAge, ${NOW} + :ttl))`

// Clears the lease when the given token holds it; every right-hand side reads the old row.
const RELEASE_IF =
  'lease = CASE WHEN lease = :lease THEN NULL ELSE lease END, lease_expiry = CASE WHEN lease = :lease THEN NULL ELSE lease_expiry END'

// An expiry within the slack of the new one stays as it is (touchSlack, as on the other stores).
const SLACK_EXPIRY = `CASE WHEN expiry > ${nextExpiry('created')} - :slack AND expiry < ${nextExpiry('created')} + :slack THEN expiry ELSE ${nextExpiry('created')} END`

// `sameRef`: the variant for a ref that did not change, which leaves the ref column (and so its
// index) alone and matches only while the row still has that ref. SQLite rewrites the index entry
// of every indexed column an UPDATE assigns, changed or not.
function update(
  table: string,
  version: boolean,
  lease: boolean,
  keep: boolean,
  sameRef: boolean,
): SqliteStatement {
  const set = ['data = :data', `modified = ${NOW}`, 'version = version + 1']
  if (!sameRef) set.push('ref = :ref')
  if (!keep) set.push(`expiry = ${nextExpiry('created')}`)
  if (lease) set.push(RELEASE_IF)
  const check = (version ? ' AND version = :version' : '') + (sameRef ? ' AND ref IS :ref' : '')
  return compile(
    table,
    `UPDATE ${TABLE} SET ${set.join(', ')} WHERE key = :key AND expiry > ${NOW}${check} RETURNING version, expiry`,
  )
}

/** Every statement of the store, built once per store so the hot path only binds values. */
export function sqliteStatements(table: string) {
  const s = (named: string): SqliteStatement => compile(table, named)
  const updates = Array.from({ length: 16 }, (_, i) =>
    update(table, (i & 2) !== 0, (i & 1) !== 0, (i & 4) !== 0, (i & 8) !== 0),
  )
  const insertValues = `VALUES (:key, :data, :ref, ${NOW}, ${NOW}, ${NOW} + MIN(:ttl, COALESCE(:maxAge, :ttl)), 1)`
  const live = `s.expiry > ${NOW}`
  return {
    read: s(`SELECT ${READ} FROM ${TABLE} WHERE key = :key AND expiry > ${NOW}`),
    insert: s(
      `INSERT INTO ${TABLE} (${COLS}) ${insertValues} ON CONFLICT (key) DO NOTHING RETURNING version, expiry`,
    ),
    // An expired row under the key is replaced as a new session (created, version and lease reset).
    upsert: s(`INSERT INTO ${TABLE} AS s (${COLS}) ${insertValues}
ON CONFLICT (key) DO UPDATE SET
  data = excluded.data, ref = excluded.ref, modified = excluded.modified,
  created = CASE WHEN ${live} THEN s.created ELSE excluded.created END,
  expiry = CASE WHEN ${live} THEN ${nextExpiry('s.created')} ELSE excluded.expiry END,
  version = CASE WHEN ${live} THEN s.version + 1 ELSE 1 END,
  lease = CASE WHEN ${live} THEN s.lease END,
  lease_expiry = CASE WHEN ${live} THEN s.lease_expiry END
RETURNING version, expiry`),
    update: (version: boolean, lease: boolean, keep: boolean, sameRef: boolean): SqliteStatement =>
      updates[(sameRef ? 8 : 0) + (keep ? 4 : 0) + (version ? 2 : 0) + (lease ? 1 : 0)] as SqliteStatement,
    liveVersion: s(`SELECT version FROM ${TABLE} WHERE key = :key AND expiry > ${NOW}`),
    touch: s(
      `UPDATE ${TABLE} SET expiry = ${SLACK_EXPIRY} WHERE key = :key AND expiry > ${NOW} RETURNING 1 AS ok`,
    ),
    touchReleasing: s(
      `UPDATE ${TABLE} SET expiry = ${SLACK_EXPIRY}, ${RELEASE_IF} WHERE key = :key AND expiry > ${NOW} RETURNING 1 AS ok`,
    ),
    // Takes a free lease and returns the row in one statement; `leaseWait` says why it could not.
    lease: s(`UPDATE ${TABLE} SET lease = :token, lease_expiry = ${NOW} + :ttl
WHERE key = :key AND expiry > ${NOW} AND (lease IS NULL OR lease_expiry <= ${NOW} OR lease = :token)
RETURNING ${READ}`),
    leaseWait: s(
      `SELECT MAX(0, COALESCE(lease_expiry, 0) - ${NOW}) AS wait FROM ${TABLE} WHERE key = :key AND expiry > ${NOW}`,
    ),
    release: s(
      `UPDATE ${TABLE} SET lease = NULL, lease_expiry = NULL WHERE key = :key AND lease = :token AND lease_expiry > ${NOW} RETURNING 1 AS ok`,
    ),
    destroy: s(`DELETE FROM ${TABLE} WHERE key = :key RETURNING ref`),
    // One statement holds SQLite's single write lock from its first read to its commit, so
    // concurrent sweepers (threads or processes) take disjoint rows and each is returned once.
    sweep: s(`DELETE FROM ${TABLE} WHERE key IN (
  SELECT key FROM ${TABLE} WHERE expiry <= ${NOW} ORDER BY expiry LIMIT :limit
) RETURNING key, ref`),
    findByRef: s(`SELECT ${INFO} FROM ${TABLE} WHERE ref = :ref AND expiry > ${NOW} ORDER BY created, key`),
    destroyByRef: s(`DELETE FROM ${TABLE} WHERE ref = :ref RETURNING key, ref`),
    count: s(`SELECT count(*) AS n FROM ${TABLE} WHERE expiry > ${NOW}`),
    refs: s(
      `SELECT DISTINCT ref FROM ${TABLE} WHERE ref IS NOT NULL AND expiry > ${NOW} ORDER BY ref LIMIT :limit`,
    ),
    listFirst: s(`SELECT ${COLS} FROM ${TABLE} WHERE expiry > ${NOW} ORDER BY key LIMIT :limit`),
    listAfter: s(
      `SELECT ${COLS} FROM ${TABLE} WHERE expiry > ${NOW} AND key > :after ORDER BY key LIMIT :limit`,
    ),
    clear: s(`DELETE FROM ${TABLE}`),
    now: s(`SELECT ${NOW} AS now`),
  }
}

export type SqliteStatements = ReturnType<typeof sqliteStatements>
