import { BATCH_MAX } from '../coalesce.js'
import { quoteMysql } from '../ident.js'
import { VERSION_LIMIT, VERSION_MAX } from './packing.js'

// UTC_TIMESTAMP is the same for the whole statement and ignores the session time zone, and the
// DATETIME columns store it verbatim, so neither app nor connection time zones matter.
const N = 'UTC_TIMESTAMP(3)'
const K = '`key`'
const ms = (x: string): string => `(TIMESTAMPDIFF(MICROSECOND, '1970-01-01 00:00:00', ${x}) DIV 1000)`
const after = (x: string, param: string): string => `(${x} + INTERVAL :${param} MICROSECOND)`
const times = `${ms('created')} AS created, ${ms('modified')} AS modified, ${ms('expiry')} AS expiry`

/** A statement with named parameters turned into positional ones once, at build time. */
export interface Statement {
  text: string
  names: string[]
}

// The table name is arbitrary text (it may contain ':name'), so it goes in only after the
// parameters were found, through a marker no table name can contain (NUL is refused).
const TABLE = '\u0000table\u0000'

function statementFor(quotedTable: string, named: string): Statement {
  const names: string[] = []
  const text = named.replace(/:([a-z]+)/g, (_, name: string) => {
    names.push(name)
    return '?'
  })
  return { text: text.split(TABLE).join(quotedTable), names }
}

export function bind(s: Statement, values: Record<string, unknown>): unknown[] {
  return s.names.map((n) => values[n])
}

/** DDL, kept in step with `mysqlSessionsTable` and the drizzle-kit migration in drizzle/mysql. */
export function mysqlDdl(table: string): string {
  return `CREATE TABLE IF NOT EXISTS ${quoteMysql(table)} (
  \`key\` varbinary(255) NOT NULL,
  \`data\` longblob NOT NULL,
  \`ref\` varbinary(1020),
  \`created\` datetime(3) NOT NULL,
  \`modified\` datetime(3) NOT NULL,
  \`expiry\` datetime(3) NOT NULL,
  \`version\` int NOT NULL,
  \`lease\` varchar(64),
  \`lease_expiry\` datetime(3),
  PRIMARY KEY (\`key\`),
  INDEX \`ref_idx\` (\`ref\`),
  INDEX \`expiry_idx\` (\`expiry\`)
)`
}

// Lease tokens compare byte-exactly (the column's collation may fold case).
const TOKEN = 'CAST(:token AS BINARY)'
// Clears the lease when the given token (NULL for none) holds it. lease_expiry is assigned first and
// both read the old lease, so MariaDB's SIMULTANEOUS_ASSIGNMENT mode gives the same result.
const RELEASE_IF =
  'lease_expiry = IF(lease = CAST(:lease AS BINARY), NULL, lease_expiry), lease = IF(lease = CAST(:lease AS BINARY), NULL, lease)'

export function mysqlStatements(table: string) {
  const quoted = quoteMysql(table)
  const statement = (named: string): Statement => statementFor(quoted, named)
  const t = TABLE
  // Updates that find their row by key name the primary key: a single-table UPDATE otherwise
  // asks InnoDB to estimate the range its WHERE could read on the expiry index, two B-tree
  // descents per statement for a plan that is always the primary key (docs/architecture-drizzle.md).
  // A SELECT by key needs no hint: it reads the row as a constant before any range is weighed.
  const pk = `${TABLE} FORCE INDEX (PRIMARY)`
  // Versions wrap below VERSION_LIMIT so the write's LAST_INSERT_ID packing holds (packing.ts).
  const next = `IF(version >= ${VERSION_MAX}, 1, version + 1)`
  // The expiry of a live row: idle ttl from now, never past created + maxAge.
  const liveExpiry = (maxAge: boolean) =>
    maxAge ? `LEAST(${after(N, 'ttl')}, ${after('created', 'maxage')})` : after(N, 'ttl')
  // A new row's created is now, so its cap is simply now + min(ttl, maxAge), computed by the caller.
  const freshExpiry = after(N, 'fresh')
  const values = `VALUES (:key, :data, :ref, ${N}, ${N}, ${freshExpiry}, LAST_INSERT_ID(${ms(freshExpiry)} * ${VERSION_LIMIT} + 1) % ${VERSION_LIMIT})`
  const cols = `(${K}, data, ref, created, modified, expiry, version)`

  // Every assignment reads only columns not assigned before it (or gets the same value either
  // way), so the result is the same under MariaDB's SIMULTANEOUS_ASSIGNMENT mode.
  const upsert = (maxAge: boolean) => {
    const live = `expiry > ${N}`
    const newExpiry = `IF(${live}, ${liveExpiry(maxAge)}, ${freshExpiry})`
    const newVersion = `IF(${live}, ${next}, 1)`
    return statement(`INSERT INTO ${t} ${cols} ${values}
ON DUPLICATE KEY UPDATE
  version = LAST_INSERT_ID(${ms(newExpiry)} * ${VERSION_LIMIT} + ${newVersion}) % ${VERSION_LIMIT},
  created = IF(${live}, created, ${N}),
  lease_expiry = IF(${live}, lease_expiry, NULL),
  lease = IF(${live}, lease, NULL),
  expiry = ${newExpiry},
  data = VALUES(data), ref = VALUES(ref), modified = ${N}`)
  }

  // An expiry that would move by less than :slack µs stays as it is (the touch rule): repeated
  // touches then leave the row unchanged, and InnoDB skips the write.
  const slackExpiry = (maxAge: boolean) =>
    `IF(ABS(TIMESTAMPDIFF(MICROSECOND, expiry, ${liveExpiry(maxAge)})) < :slack, expiry, ${liveExpiry(maxAge)})`

  // Releasing a lease is spelled out only in the statements given one (serialised mode): with
  // NULL it changes nothing, and it is four parameters and two IFs on every default-mode write.
  const release = (lease: boolean) => (lease ? `, ${RELEASE_IF}` : '')

  // An update moves the expiry to now + ttl, or with keepExpiry (the manager's choice while the
  // move would be small) leaves it: the statement then changes no indexed column, and the expiry
  // it reports is the column's own. version is assigned before expiry and both read the old row,
  // as under SIMULTANEOUS_ASSIGNMENT.
  const update = (maxAge: boolean, version: boolean, lease: boolean, keep: boolean) => {
    const expiry = keep ? 'expiry' : liveExpiry(maxAge)
    return statement(`UPDATE ${pk} SET
  version = LAST_INSERT_ID(${ms(expiry)} * ${VERSION_LIMIT} + ${next}) % ${VERSION_LIMIT},${
    keep
      ? ''
      : `
  expiry = ${expiry},`
  }
  data = :data, ref = :ref, modified = ${N}${release(lease)}
WHERE ${K} = :key AND expiry > ${N}${version ? ' AND version = :version' : ''}`)
  }

  // LAST_INSERT_ID(1) marks "a row matched" whatever the client's FOUND_ROWS flag says. An expiry
  // that would move by less than :slack µs stays as it is: with no lease to release the row is then
  // unchanged, and InnoDB skips the write (repeated touches cost a locked read, not a redo record).
  const touch = (maxAge: boolean, lease: boolean) =>
    statement(
      `UPDATE ${pk} SET expiry = IF(LAST_INSERT_ID(1) = 1, ${slackExpiry(maxAge)}, NULL)${release(lease)} WHERE ${K} = :key AND expiry > ${N}`,
    )
  // Every variant built once, indexed by its flags as bits.
  const updates = Array.from({ length: 16 }, (_, i) =>
    update((i & 4) !== 0, (i & 2) !== 0, (i & 1) !== 0, (i & 8) !== 0),
  )
  const touches = Array.from({ length: 4 }, (_, i) => touch((i & 2) !== 0, (i & 1) !== 0))

  const infoCols = `${K} AS \`key\`, ref, ${times}, version`
  // Every batch size (1, 2, 4, … BATCH_MAX), built once, indexed by its log2.
  const inLists = Array.from({ length: Math.log2(BATCH_MAX) + 1 }, (_, i) =>
    Array(2 ** i)
      .fill('?')
      .join(', '),
  )
  const readsMany = inLists.map((keys) =>
    statement(
      `SELECT ${K} AS \`key\`, data, ref, ${times}, version, ${ms(N)} AS now FROM ${pk} WHERE ${K} IN (${keys}) AND expiry > ${N}`,
    ),
  )
  const destroysMany = inLists.map((keys) =>
    statement(`DELETE FROM ${t} WHERE ${K} IN (${keys}) RETURNING ${K} AS \`key\`, ref`),
  )
  return {
    read: statement(
      `SELECT data, ref, ${times}, version, ${ms(N)} AS now FROM ${t} WHERE ${K} = :key AND expiry > ${N}`,
    ),
    // Reads that queued while others were in flight, sent together; the key comes back so each
    // row finds its reader. The IN list is a range on the primary key, so the index is named (no
    // estimate of the expiry index's range, as for updates). n is a batch size (a power of two).
    readMany: (n: number): Statement => readsMany[Math.log2(n)] as Statement,
    // Destroys that waited for a lane, together (MariaDB: RETURNING names each deleted row).
    destroyMany: (n: number): Statement => destroysMany[Math.log2(n)] as Statement,
    // LAST_INSERT_ID(0) on a duplicate tells "exists" apart from the insert, which set it non-zero.
    insert: statement(
      `INSERT INTO ${t} ${cols} ${values} ON DUPLICATE KEY UPDATE version = IF(LAST_INSERT_ID(0) = 0, version, NULL)`,
    ),
    upsert: upsert(false),
    upsertMaxAge: upsert(true),
    update: (maxAge: boolean, version: boolean, lease: boolean, keep: boolean): Statement =>
      updates[(keep ? 8 : 0) + (maxAge ? 4 : 0) + (version ? 2 : 0) + (lease ? 1 : 0)] as Statement,
    liveVersion: statement(`SELECT version FROM ${t} WHERE ${K} = :key AND expiry > ${N}`),
    touch: (maxAge: boolean, lease: boolean): Statement =>
      touches[(maxAge ? 2 : 0) + (lease ? 1 : 0)] as Statement,
    destroyRef: statement(`SELECT ref FROM ${t} WHERE ${K} = :key`),
    // Deletes only the row whose ref we read, so the ref we report is the one that was deleted.
    destroy: statement(`DELETE FROM ${t} WHERE ${K} = :key AND ref <=> :ref`),
    // MariaDB (10.0+) reports the deleted row itself: one statement instead of destroyRef + destroy.
    destroyReturning: statement(`DELETE FROM ${t} WHERE ${K} = :key RETURNING ref`),
    // LIMIT is inlined (a checked integer): MySQL 8 refuses a DOUBLE-typed LIMIT parameter.
    sweepLock: (limit: number) =>
      statement(
        `SELECT ${K} AS \`key\`, ref FROM ${t} WHERE expiry <= ${N} ORDER BY expiry LIMIT ${limit} FOR UPDATE SKIP LOCKED`,
      ),
    refLock: statement(`SELECT ${K} AS \`key\`, ref FROM ${t} WHERE ref = :ref FOR UPDATE`),
    // The primary key is forced: on a table with fresh statistics the optimizer may pick a scan,
    // which waits on rows other sweepers hold and deadlocks with them.
    deleteKeys: statement(`DELETE s FROM ${t} AS s FORCE INDEX (PRIMARY) WHERE s.${K} IN (?)`),
    findByRef: statement(
      `SELECT ${infoCols} FROM ${t} WHERE ref = :ref AND expiry > ${N} ORDER BY created, ${K}`,
    ),
    count: statement(`SELECT COUNT(*) AS n FROM ${t} WHERE expiry > ${N}`),
    refs: (limit: number) =>
      statement(
        `SELECT DISTINCT ref FROM ${t} WHERE ref IS NOT NULL AND expiry > ${N} ORDER BY ref LIMIT ${limit}`,
      ),
    list: (limit: number, after: boolean) =>
      statement(
        `SELECT ${infoCols}, data FROM ${t} WHERE expiry > ${N}${after ? ` AND ${K} > :after` : ''} ORDER BY ${K} LIMIT ${limit}`,
      ),
    // Serialised mode: take a free (never taken, released or lapsed) lease, then read the row and
    // its lease; the caller owns the lease when the row names its token.
    lease: statement(`UPDATE ${pk} SET lease_expiry = ${after(N, 'ttl')}, lease = :token
WHERE ${K} = :key AND expiry > ${N} AND (lease IS NULL OR lease_expiry <= ${N} OR lease = ${TOKEN})`),
    leaseRead: statement(
      `SELECT data, ref, ${times}, version, ${ms(N)} AS now, lease, GREATEST(0, ${ms('lease_expiry')} - ${ms(N)}) AS wait FROM ${t} WHERE ${K} = :key AND expiry > ${N}`,
    ),
    release: statement(
      `UPDATE ${pk} SET lease_expiry = NULL, lease = NULL WHERE ${K} = :key AND lease = ${TOKEN} AND lease_expiry > ${N}`,
    ),
    clear: statement(`DELETE FROM ${t}`),
    now: statement(`SELECT ${ms(N)} AS now`),
    // The version tells MariaDB (which has DELETE ... RETURNING) from MySQL at start-up.
    maxPacket: statement('SELECT @@max_allowed_packet AS p, VERSION() AS v'),
  }
}

export type MysqlStatements = ReturnType<typeof mysqlStatements>
