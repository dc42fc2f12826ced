import { BATCH_MAX } from '../coalesce.js'
import { pgIndexName, quotePg } from '../ident.js'

// The database clock, cut to the column precision so that what a write returns is what it stored.
const NOW = `date_trunc('milliseconds', now())`
const ms = (param: string): string => `(${param}::float8 * interval '1 millisecond')`
const COLS = 'key, data, ref, created, modified, expiry, version'
const INFO = 'key, ref, created, modified, expiry, version'

export function pgQualified(table: string, schema: string | undefined): string {
  return schema === undefined ? quotePg(table) : `${quotePg(schema)}.${quotePg(table)}`
}

/** DDL, kept in step with `pgSessionsTable` and the drizzle-kit migration in drizzle/pg. */
export function pgDdl(table: string, schema: string | undefined): string[] {
  const t = pgQualified(table, schema)
  return [
    `CREATE TABLE IF NOT EXISTS ${t} (
  "key" text COLLATE "C" PRIMARY KEY NOT NULL,
  "data" bytea NOT NULL,
  "ref" text COLLATE "C",
  "created" timestamp (3) with time zone NOT NULL,
  "modified" timestamp (3) with time zone NOT NULL,
  "expiry" timestamp (3) with time zone NOT NULL,
  "version" integer NOT NULL,
  "lease" varchar(64),
  "lease_expiry" timestamp (3) with time zone
)`,
    `CREATE INDEX IF NOT EXISTS ${quotePg(pgIndexName(table, 'ref_idx'))} ON ${t} USING btree ("ref")`,
    `CREATE INDEX IF NOT EXISTS ${quotePg(pgIndexName(table, 'expiry_idx'))} ON ${t} USING btree ("expiry")`,
  ]
}

// Clears the lease when the given token (a parameter, NULL for none) holds it. Every right-hand
// side of an UPDATE reads the old row, so both columns test the old lease.
const releaseIf = (param: string): string =>
  `lease = CASE WHEN lease = ${param}::varchar THEN NULL ELSE lease END, lease_expiry = CASE WHEN lease = ${param}::varchar THEN NULL ELSE lease_expiry END`

// The expiry a touch gives a live row: the idle ttl from now, never past created + maxAge (LEAST
// ignores the NULL of no maxAge). One that would move by less than the slack stays as it is
// (touchSlack): no indexed column then changes, so PostgreSQL can update the row in place of its
// page (a HOT update) without a new entry in any of the three indexes.
const slackExpiry = (ttl: string, maxAge: string, slack: string): string => {
  const next = `LEAST(${NOW} + ${ms(ttl)}, created + ${ms(maxAge)})`
  return `CASE WHEN expiry > ${next} - ${ms(slack)} AND expiry < ${next} + ${ms(slack)} THEN expiry ELSE ${next} END`
}

/** An update statement and the order of its parameters. */
export interface PgUpdate {
  text: string
  /** Which request values its $1, $2, … are. */
  params: readonly ('key' | 'data' | 'ref' | 'ttl' | 'maxAge' | 'version' | 'lease')[]
}

/**
 * An update: data, ref and version, and the expiry moved to now + ttl (capped at created +
 * maxAge), or kept as it is (`keep`, the manager's choice while the move would be small: no
 * indexed column then changes, so PostgreSQL can update the row in place of its page, a HOT
 * update). Each variant binds only the parameters it uses.
 */
function updateStatement(t: string, version: boolean, lease: boolean, keep: boolean): PgUpdate {
  const params: PgUpdate['params'][number][] = []
  const $ = (name: PgUpdate['params'][number]): string => {
    params.push(name)
    return `$${params.length}`
  }
  const key = $('key')
  const set = [
    `data = ${$('data')}::bytea`,
    `ref = ${$('ref')}`,
    `modified = ${NOW}`,
    'version = version + 1',
  ]
  if (!keep) set.push(`expiry = LEAST(${NOW} + ${ms($('ttl'))}, created + ${ms($('maxAge'))})`)
  if (lease) set.push(releaseIf($('lease')))
  const check = version ? ` AND version = ${$('version')}::int` : ''
  return {
    text: `UPDATE ${t} SET ${set.join(', ')} WHERE key = ${key} AND expiry > ${NOW}${check} RETURNING version, expiry`,
    params,
  }
}

/** Every statement of the store, built once per store so the hot path only binds parameters. */
export function pgStatements(t: string) {
  const updates = Array.from({ length: 8 }, (_, i) =>
    updateStatement(t, (i & 2) !== 0, (i & 1) !== 0, (i & 4) !== 0),
  )
  const insertValues = `VALUES ($1, $2::bytea, $3, ${NOW}, ${NOW}, LEAST(${NOW} + ${ms('$4')}, ${NOW} + ${ms('$5')}), 1)`
  // Every batch size (1, 2, 4, … BATCH_MAX), built once, indexed by its log2.
  const inLists = Array.from({ length: Math.log2(BATCH_MAX) + 1 }, (_, i) =>
    Array.from({ length: 2 ** i }, (_, j) => `$${j + 1}`).join(', '),
  )
  const readsMany = inLists.map(
    (keys) =>
      `SELECT key, data, ref, created, modified, expiry, version, ${NOW} AS now FROM ${t} WHERE key IN (${keys}) AND expiry > ${NOW}`,
  )
  const destroysMany = inLists.map((keys) => `DELETE FROM ${t} WHERE key IN (${keys}) RETURNING key, ref`)
  return {
    read: `SELECT data, ref, created, modified, expiry, version, ${NOW} AS now FROM ${t} WHERE key = $1 AND expiry > ${NOW}`,
    // Reads that waited while others were in flight, sent together (n a batch size, padded by the
    // caller); the key comes back so that each row finds its reader.
    readMany: (n: number): string => readsMany[Math.log2(n)] as string,
    insert: `INSERT INTO ${t} (${COLS}) ${insertValues} ON CONFLICT (key) DO NOTHING RETURNING version, expiry`,
    // LEAST ignores NULL on PostgreSQL, so a missing maxAge ($5) leaves the idle expiry alone.
    upsert: `INSERT INTO ${t} AS s (${COLS}) ${insertValues}
ON CONFLICT (key) DO UPDATE SET
  data = EXCLUDED.data, ref = EXCLUDED.ref, modified = EXCLUDED.modified,
  created = CASE WHEN s.expiry > ${NOW} THEN s.created ELSE EXCLUDED.created END,
  expiry = CASE WHEN s.expiry > ${NOW} THEN LEAST(${NOW} + ${ms('$4')}, s.created + ${ms('$5')}) ELSE EXCLUDED.expiry END,
  version = CASE WHEN s.expiry > ${NOW} THEN s.version + 1 ELSE 1 END,
  lease = CASE WHEN s.expiry > ${NOW} THEN s.lease END,
  lease_expiry = CASE WHEN s.expiry > ${NOW} THEN s.lease_expiry END
RETURNING version, expiry`,
    // One index lookup on the way that succeeds; why nothing was updated (a newer version or no
    // live row) is asked only then, with `liveVersion`. Each flag combination is its own
    // statement, so every prepared plan is the simple one.
    update: (version: boolean, lease: boolean, keep: boolean): PgUpdate =>
      updates[(keep ? 4 : 0) + (version ? 2 : 0) + (lease ? 1 : 0)] as PgUpdate,
    liveVersion: `SELECT version FROM ${t} WHERE key = $1 AND expiry > ${NOW}`,
    // The lease columns only in the statement given a lease to release (serialised mode).
    touch: `UPDATE ${t} SET expiry = ${slackExpiry('$2', '$3', '$4')} WHERE key = $1 AND expiry > ${NOW} RETURNING 1 AS ok`,
    touchReleasing: `UPDATE ${t} SET expiry = ${slackExpiry('$2', '$3', '$4')}, ${releaseIf('$5')} WHERE key = $1 AND expiry > ${NOW} RETURNING 1 AS ok`,
    // Serialised mode. One statement takes a free (never taken, released or lapsed) lease and
    // returns the row; when it cannot, it says whether the row is live and when the lease lapses.
    lease: `WITH cur AS (
  SELECT GREATEST(0, EXTRACT(EPOCH FROM (lease_expiry - ${NOW})) * 1000)::float8 AS wait
  FROM ${t} WHERE key = $1 AND expiry > ${NOW}
),
upd AS (
  UPDATE ${t} SET lease = $2::varchar, lease_expiry = ${NOW} + ${ms('$3')}
  WHERE key = $1 AND expiry > ${NOW} AND (lease IS NULL OR lease_expiry <= ${NOW} OR lease = $2::varchar)
  RETURNING data, ref, created, modified, expiry, version
)
SELECT upd.data, upd.ref, upd.created, upd.modified, upd.expiry, upd.version, ${NOW} AS now,
  (SELECT wait FROM cur) AS wait, EXISTS (SELECT 1 FROM cur) AS live
FROM (SELECT 1) AS one LEFT JOIN upd ON true`,
    release: `UPDATE ${t} SET lease = NULL, lease_expiry = NULL WHERE key = $1 AND lease = $2::varchar AND lease_expiry > ${NOW} RETURNING 1 AS ok`,
    destroy: `DELETE FROM ${t} WHERE key = $1 RETURNING ref`,
    // Destroys that waited for a lane, together (n a batch size, padded by the caller).
    destroyMany: (n: number): string => destroysMany[Math.log2(n)] as string,
    // SKIP LOCKED lets concurrent sweepers take disjoint batches; RETURNING hands each row out once.
    sweep: `DELETE FROM ${t} WHERE key IN (
  SELECT key FROM ${t} WHERE expiry <= ${NOW} ORDER BY expiry LIMIT $1 FOR UPDATE SKIP LOCKED
) RETURNING key, ref`,
    findByRef: `SELECT ${INFO} FROM ${t} WHERE ref = $1 AND expiry > ${NOW} ORDER BY created, key`,
    destroyByRef: `DELETE FROM ${t} WHERE ref = $1 RETURNING key, ref`,
    count: `SELECT count(*)::int AS n FROM ${t} WHERE expiry > ${NOW}`,
    refs: `SELECT DISTINCT ref FROM ${t} WHERE ref IS NOT NULL AND expiry > ${NOW} ORDER BY ref LIMIT $1`,
    listFirst: `SELECT ${COLS} FROM ${t} WHERE expiry > ${NOW} ORDER BY key LIMIT $1`,
    listAfter: `SELECT ${COLS} FROM ${t} WHERE expiry > ${NOW} AND key > $2 ORDER BY key LIMIT $1`,
    clear: `DELETE FROM ${t}`,
    now: `SELECT ${NOW} AS now`,
  }
}

export type PgStatements = ReturnType<typeof pgStatements>
