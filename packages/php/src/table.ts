import { type Duration, parseDuration, SessionError } from '@sessile/core'
import { type PhpCodec, type PhpCodecOptions, phpCodec } from './codec.js'

/**
 * Which column of an existing PHP session table plays which part. Only `key`, `data` and either
 * `expiry` or `modified` are required; the store never alters the table.
 */
export interface PhpColumns {
  /** The session id (PHP stores the raw id). */
  key: string
  /** The session string. */
  data: string
  /** The indexed reference (ADOdb's EXPIREREF, a `user_id`); `null` when the table has none. */
  ref?: string | null
  /** When the session expires; `null` when expiry is `modified` + `lifetime`. */
  expiry?: string | null
  /** When the data was last written (the `last_updated` of hand-written handlers). */
  modified?: string | null
  /** When the session was first written. */
  created?: string | null
}

/** ADOdb's `sessions2` table (adodb-session2.php). */
export const ADODB_SESSIONS2: Readonly<Required<PhpColumns>> = Object.freeze({
  key: 'sesskey',
  data: 'sessdata',
  ref: 'expireref',
  expiry: 'expiry',
  modified: 'modified',
  created: 'created',
})

/** The `php_session` table of the well-known hand-written `session_set_save_handler` class. */
export const PHP_SESSION_TABLE: Readonly<Required<PhpColumns>> = Object.freeze({
  key: 'session_id',
  data: 'session_data',
  ref: 'user_id',
  expiry: null,
  modified: 'last_updated',
  created: 'date_created',
})

export interface PhpStoreOptions {
  /**
   * The table's name.
   * @default 'sessions2'
   */
  table?: string
  /**
   * The column map.
   * @default ADODB_SESSIONS2
   */
  columns?: PhpColumns
  /**
   * The codec (or its options) the PHP app's settings call for: ADOdb writes rawurlencoded data
   * (`urlencode: true`), a hand-written handler usually plain `session_encode()` output.
   * @default phpCodec({})
   */
  codec?: PhpCodec | PhpCodecOptions
  /**
   * Tables without an expiry column: a session expires this long after `modified` (PHP's
   * `session.gc_maxlifetime`). Every session then has this one idle lifetime.
   */
  lifetime?: Duration
  /**
   * Create an ADOdb-shaped table when it does not exist (tests, a fresh start). An existing table
   * is used as it is, never altered.
   * @default false
   */
  createTable?: boolean
  /** Called with each stored payload that could not be decoded; its session reads as "no session". */
  onDecodeError?: (error: SessionError, key: string) => void
}

export interface ResolvedTable {
  table: string
  columns: Required<PhpColumns>
  codec: PhpCodec
  lifetime: number | null
  createTable: boolean
  onDecodeError: (error: SessionError, key: string) => void
}

const IDENT = /^[A-Za-z_][A-Za-z0-9_$]{0,62}$/

export function resolveTable(source: string, o: PhpStoreOptions): ResolvedTable {
  const fail = (m: string): never => {
    throw new SessionError('E_OPTION', source, m)
  }
  if (typeof o !== 'object' || o === null) fail('options must be an object')
  const table = o.table ?? 'sessions2'
  if (!IDENT.test(table)) fail(`table must be a plain SQL identifier, got ${String(table)}`)
  const given = o.columns ?? ADODB_SESSIONS2
  const columns: Required<PhpColumns> = {
    key: given.key,
    data: given.data,
    ref: given.ref ?? null,
    expiry: given.expiry ?? null,
    modified: given.modified ?? null,
    created: given.created ?? null,
  }
  for (const [role, name] of Object.entries(columns)) {
    if (name !== null && (typeof name !== 'string' || !IDENT.test(name)))
      fail(`columns.${role} must be a plain SQL identifier, got ${String(name)}`)
  }
  if (!columns.key || !columns.data) fail('columns.key and columns.data are required')
  let lifetime: number | null = null
  if (columns.expiry === null) {
    if (columns.modified === null) fail('a table without an expiry column needs columns.modified')
    if (o.lifetime === undefined)
      fail('a table without an expiry column needs lifetime (session.gc_maxlifetime)')
    lifetime = parseDuration(o.lifetime as Duration, 'lifetime')
  }
  const codec =
    o.codec && typeof (o.codec as PhpCodec).decode === 'function'
      ? (o.codec as PhpCodec)
      : phpCodec((o.codec as PhpCodecOptions | undefined) ?? {})
  if (o.onDecodeError !== undefined && typeof o.onDecodeError !== 'function')
    fail('onDecodeError must be a function')
  return {
    table,
    columns,
    codec,
    lifetime,
    createTable: o.createTable === true,
    onDecodeError: o.onDecodeError ?? (() => {}),
  }
}
