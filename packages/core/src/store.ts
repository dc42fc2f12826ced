/**
 * The store contract: what every session store (SQL, memory, third-party) must do.
 * It is PHP's open/read/write/destroy/gc handler, done right: expiry is decided on the
 * store's own clock, writes never resurrect a destroyed session, and the sweep hands each
 * expired row to exactly one caller.
 *
 * `@sessile/core/testing` exports `describeStore`, the conformance suite every store must pass.
 */

/** A row as the store keeps it. `data` is opaque: filters ran before the store saw it. */
export interface StoredSession {
  /** The storage key (the HMAC of the session id when a secret is configured). */
  key: string
  /** The payload bytes, exactly as written. */
  data: Uint8Array
  /** The reference (ADOdb's EXPIREREF), usually a user id; indexed. */
  ref: string | null
  /** When the row was first written, on the store's clock. */
  created: Date
  /** When the data was last written, on the store's clock. */
  modified: Date
  /** When the session expires, on the store's clock. */
  expiry: Date
  /** Bumped by every data write; `touch` leaves it alone. */
  version: number
}

/** What `read` returns: the row plus the store's clock at the moment of the read. */
export interface ReadResult extends StoredSession {
  /** The store's current time, so callers can reason about expiry without trusting their own clock. */
  now: Date
}

/** A session without its payload, as the monitor lists it. */
export type SessionInfo = Omit<StoredSession, 'data'>

/** What the notifier needs to know about a session that ended. */
export interface SessionRef {
  key: string
  ref: string | null
}

/**
 * What a caller of `destroy` already knows of the row: the ref it read with it (the manager holds
 * it for every loaded session it destroys). Only a hint: the store still reports the ref of the
 * row it deleted, which differs when another writer changed the ref since the read.
 */
export interface DestroyHint {
  ref: string | null
}

/** How a write treats an existing row. */
export type WriteMode =
  /** Only when no row has this key (a new session); otherwise `exists`. */
  | 'insert'
  /** Only when a live row has this key; never brings back a destroyed or expired session. */
  | 'update'
  /** Insert or overwrite (express-session's `set`); one native upsert. */
  | 'upsert'

export interface WriteRequest {
  key: string
  data: Uint8Array
  ref: string | null
  mode: WriteMode
  /** Idle lifetime in ms: the new expiry is the store's now + ttl. */
  ttl: number
  /** Absolute lifetime in ms from `created`; the expiry never passes created + maxAge. */
  maxAge?: number | undefined
  /** With `update`: write only if the row's version is still this one, else `conflict`. */
  version?: number | undefined
  /** With `update`: also release the row's lease if this token holds it (serialised mode). */
  lease?: string | undefined
  /**
   * With `update`: leave the expiry as it is and write only the data (`ttl` and `maxAge` are then
   * not used). The manager asks for this when the expiry would move by less than `touchShare` of
   * the session's ttl, the rule touches follow, so a session written many times a minute changes
   * no indexed column: no expiry-index entry moves, and PostgreSQL can update the row in place.
   * The result reports the row's expiry all the same.
   */
  keepExpiry?: boolean | undefined
}

export type WriteResult =
  | { ok: true; version: number; expiry: Date }
  | { ok: false; reason: 'exists' | 'missing' | 'conflict' }

export interface TouchRequest {
  key: string
  ttl: number
  maxAge?: number | undefined
  /** Also release the row's lease if this token holds it (serialised mode). */
  lease?: string | undefined
}

/** Take the lease of a live row (serialised mode): PHP's session lock, without a held connection. */
export interface LeaseRequest {
  key: string
  /** The holder's token: 1 to 64 ASCII characters, unique per request. */
  token: string
  /** How long the lease lasts (ms, store clock) if the holder never releases it. */
  ttl: number
}

export type LeaseResult =
  /** The lease is this token's; `row` is the session as it stands, read in the same step. */
  | { ok: true; row: ReadResult }
  /** Another token holds a live lease; it lapses in `wait` ms (store clock) unless released. */
  | { ok: false; reason: 'held'; wait: number }
  /** No live row has this key. */
  | { ok: false; reason: 'missing' }

export interface ListOptions {
  /** At most this many rows. */
  limit: number
  /** Only keys sorting after this one (keyset pagination). */
  after?: string | undefined
}

/**
 * The async handler contract every store implements.
 *
 * Rules the conformance suite checks:
 * - `read` of a missing or expired key is `null`, never an error and never stale data.
 * - `write` is one atomic statement where the backend allows; `update` never resurrects.
 * - `touch` moves only the expiry of a live row; data and version stay as they are. A store may
 *   leave the expiry alone when it would move by less than `touchSlack(ttl)` (1 % of the ttl, at
 *   most 1 s), so that repeated touches need not each be a write; it still returns `true`.
 *   An `update` moves the expiry to now + ttl (or may keep it by the same rule), except with
 *   `keepExpiry`, which leaves it as it is; either way it reports the expiry the row has after it.
 * - `destroy` is idempotent and returns the `(key, ref)` of the row it deleted, or `null`; given a
 *   hint, the ref is still the deleted row's own. A store may use the hint to save the work of
 *   sending the ref back (delete only while the ref is the hinted one, else take the general path).
 * - `lease`/`release` (when present): at most one token holds a row's live lease; `write`
 *   (update) and `touch` given `lease` release it in the same statement; `destroy` ends it.
 * - `sweep(limit)` deletes at most `limit` expired rows and returns each one to exactly one caller,
 *   even when several processes sweep the same table at once. A batch shorter than `limit` does
 *   not mean none are left (rows other sweepers hold are skipped): callers stop at an empty batch.
 * - Failures of the backend are thrown as `SessionError` with code `E_STORE`; payloads above
 *   `maxDataBytes` are refused with `E_TOO_LARGE` before anything is sent.
 */
export interface SessionStore {
  /** A short name for messages and errors, e.g. `'pg'`, `'mysql'`, `'memory'`. */
  readonly name: string
  /** The largest `data` the store accepts, in bytes. */
  readonly maxDataBytes: number
  read(key: string): Promise<ReadResult | null>
  write(request: WriteRequest): Promise<WriteResult>
  touch(request: TouchRequest): Promise<boolean>
  destroy(key: string, hint?: DestroyHint): Promise<SessionRef | null>
  sweep(limit: number): Promise<SessionRef[]>
  /** Live sessions of a ref, oldest first. */
  findByRef(ref: string): Promise<SessionInfo[]>
  destroyByRef(ref: string): Promise<SessionRef[]>
  /** The number of live sessions. */
  count(): Promise<number>
  /** Distinct refs of live sessions, sorted, at most `limit`. */
  refs(limit: number): Promise<string[]>
  /** Live sessions sorted by key, for express-session's `all()` and admin tools. */
  list(options: ListOptions): Promise<StoredSession[]>
  /** Delete every row (express-session's `clear()`, tests). */
  clear(): Promise<void>
  /** The store's clock. */
  now(): Promise<Date>
  /**
   * Serialised mode (optional): take the lease of a live row and read it, in one atomic step.
   * A lease is free when it was never taken, was released, or has lapsed (store clock); the same
   * token may take it again (which extends it). Leases never change data, version or expiry.
   */
  lease?(request: LeaseRequest): Promise<LeaseResult>
  /** Release the lease if `token` holds it; `false` when it does not (lapsed, taken, gone). */
  release?(key: string, token: string): Promise<boolean>
  /** Release connections the store opened itself. */
  close(): Promise<void>
}

/**
 * How far a store may leave a touched expiry short of `now + ttl` to skip a write: 1 % of the ttl,
 * at most 1 s (the precision peers that keep whole seconds have anyway). The manager only touches
 * when the expiry moves by `touchShare` (default 10 %) of the session's ttl, far above this.
 */
export function touchSlack(ttl: number): number {
  return Math.min(1000, Math.floor(ttl / 100))
}
