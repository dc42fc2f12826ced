import {
  type DestroyHint,
  type LeaseRequest,
  type LeaseResult,
  type ListOptions,
  type ReadResult,
  type SessionInfo,
  type SessionRef,
  type StoredSession,
  storeError,
  type TouchRequest,
  touchSlack,
  validateDestroyHint,
  validateKey,
  validateLease,
  validateLimit,
  validateRef,
  validateToken,
  validateTouch,
  validateWrite,
  type WriteRequest,
  type WriteResult,
} from '@sessile/core'
import type { SqlSessionStore } from '../../options.js'
import type { ResolvedSqlOptions } from '../options.js'
import { Ready } from '../ready.js'
import { type Row, toInfo, toReadResult, toRef, updateMissed } from '../rows.js'
import { toBytes, toDate, toInt, toNullableText, toText } from '../values.js'
import { isBusy } from './busy.js'
import {
  bindSqlite,
  readResultOf,
  type SqliteStatement,
  type SqliteStatements,
  sqliteDdl,
  sqliteStatements,
} from './sql.js'

export type { Row }

/** How the store reaches SQLite: better-sqlite3, libSQL or anything alike. */
export interface SqliteExecutor {
  /** Runs one statement and gives its rows (none for a statement without a result). */
  query(text: string, params: unknown[]): Row[] | Promise<Row[]>
  /** Runs a query and gives its first row as values in column order, or undefined for none. */
  first(text: string, params: unknown[]): unknown[] | undefined | Promise<unknown[] | undefined>
  /** Closes the database if the store opened it; a no-op for a borrowed one. */
  close(): Promise<void>
}

// SQLITE_BUSY past the busy timeout (or BUSY_RECOVERY after a crash): the statement did nothing,
// so running it again is safe. A few tries, with jitter so waiting processes do not collide again.
const BUSY_RETRIES = 4

type Call<T> = (text: string, params: unknown[]) => T | Promise<T>

/** The SessionStore over a SQLite executor; `sqliteStore` wraps it. */
export class SqliteSqlStore implements SqlSessionStore {
  readonly name: string
  readonly table: string
  readonly maxDataBytes: number
  readonly #exec: SqliteExecutor
  readonly #sql: SqliteStatements
  readonly #ddl: string[]
  readonly #ready: Ready

  constructor(name: string, exec: SqliteExecutor, config: ResolvedSqlOptions) {
    this.name = name
    this.table = config.table
    this.maxDataBytes = config.maxDataBytes
    this.#exec = exec
    this.#sql = sqliteStatements(config.table)
    this.#ddl = sqliteDdl(config.table)
    this.#ready = new Ready(config.createTable ? () => this.#createSchema() : async () => {})
  }

  async ensureSchema(): Promise<void> {
    try {
      await this.#createSchema()
      this.#ready.markDone()
    } catch (error) {
      throw storeError(this.name, 'ensureSchema', error)
    }
  }

  async #createSchema(): Promise<void> {
    for (const statement of this.#ddl) await this.#query(this.#all, statement, [])
  }

  async #query<T>(call: Call<T>, text: string, params: unknown[]): Promise<T> {
    for (let attempt = 0; ; attempt++) {
      try {
        return await call(text, params)
      } catch (error) {
        if (attempt >= BUSY_RETRIES || !isBusy(error)) throw error
        await new Promise((resolve) => setTimeout(resolve, 5 + Math.random() * 20 * (attempt + 1)))
      }
    }
  }

  readonly #all: Call<Row[]> = (text, params) => this.#exec.query(text, params)
  readonly #first: Call<unknown[] | undefined> = (text, params) => this.#exec.first(text, params)

  // The result itself, with no promise on the way that succeeds with a synchronous driver
  // (better-sqlite3): each promise layer costs a microtask turn per operation, a measurable part
  // of a read. Waiting for the schema, and retrying a busy statement, take the slower path.
  #call<T>(
    action: string,
    call: Call<T>,
    s: SqliteStatement,
    values: Record<string, unknown>,
  ): T | Promise<T> {
    if (!this.#ready.done) {
      return this.#ready.run().then(
        () => this.#call(action, call, s, values),
        (error: unknown) => {
          throw storeError(this.name, action, error)
        },
      )
    }
    const params = bindSqlite(s, values)
    let result: T | Promise<T>
    try {
      result = call(s.text, params)
    } catch (error) {
      result = Promise.reject(error)
    }
    if (!(result instanceof Promise)) return result
    return result.catch((error: unknown) => this.#retry(action, call, s.text, params, error))
  }

  #rows(action: string, s: SqliteStatement, values: Record<string, unknown>): Row[] | Promise<Row[]> {
    return this.#call(action, this.#all, s, values)
  }

  #run(action: string, s: SqliteStatement, values: Record<string, unknown>): Promise<Row[]> {
    const rows = this.#call(action, this.#all, s, values)
    return rows instanceof Promise ? rows : Promise.resolve(rows)
  }

  async #retry<T>(
    action: string,
    call: Call<T>,
    text: string,
    params: unknown[],
    error: unknown,
  ): Promise<T> {
    if (!isBusy(error)) throw storeError(this.name, action, error)
    try {
      return await this.#query(call, text, params)
    } catch (e) {
      throw storeError(this.name, action, e)
    }
  }

  async read(key: string): Promise<ReadResult | null> {
    validateKey(this.name, key)
    const found = this.#call('read', this.#first, this.#sql.read, { key })
    const values = found instanceof Promise ? await found : found
    return values ? readResultOf(key, values) : null
  }

  async write(req: WriteRequest): Promise<WriteResult> {
    validateWrite(this.name, req, this.maxDataBytes)
    const values = {
      key: req.key,
      data: asBlob(req.data),
      ref: req.ref,
      ttl: req.ttl,
      maxAge: req.maxAge ?? null,
      version: req.version,
      lease: req.lease,
    }
    if (req.mode === 'update') {
      const flags = [req.version !== undefined, req.lease !== undefined, req.keepExpiry === true] as const
      // Most updates keep the ref: the first statement then leaves its index alone. A changed ref
      // (login, logout) misses it and takes the second.
      const same = this.#rows('write', this.#sql.update(...flags, true), values)
      const row =
        (same instanceof Promise ? await same : same)[0] ??
        (await this.#run('write', this.#sql.update(...flags, false), values))[0]
      if (row) return { ok: true, version: toInt(row.version), expiry: toDate(row.expiry) }
      // Failure path only: a second statement tells a newer version from a missing row.
      const live = await this.#run('write', this.#sql.liveVersion, values)
      return updateMissed(live.length > 0, req)
    }
    const s = req.mode === 'insert' ? this.#sql.insert : this.#sql.upsert
    const rows = this.#rows('write', s, values)
    const row = (rows instanceof Promise ? await rows : rows)[0]
    if (!row) return { ok: false, reason: 'exists' }
    return { ok: true, version: toInt(row.version), expiry: toDate(row.expiry) }
  }

  async touch(req: TouchRequest): Promise<boolean> {
    validateTouch(this.name, req)
    const values = { key: req.key, ttl: req.ttl, maxAge: req.maxAge ?? null, slack: touchSlack(req.ttl) }
    const rows =
      req.lease === undefined
        ? this.#rows('touch', this.#sql.touch, values)
        : this.#rows('touch', this.#sql.touchReleasing, { ...values, lease: req.lease })
    return (rows instanceof Promise ? await rows : rows).length > 0
  }

  async lease(req: LeaseRequest): Promise<LeaseResult> {
    validateLease(this.name, req)
    const values = { key: req.key, token: req.token, ttl: req.ttl }
    const row = (await this.#run('lease', this.#sql.lease, values))[0]
    if (row) return { ok: true, row: toReadResult(req.key, row) }
    // Failure path only; a lease released in between reads as held with no wait, and the caller
    // simply tries again.
    const held = (await this.#run('lease', this.#sql.leaseWait, values))[0]
    if (!held) return { ok: false, reason: 'missing' }
    return { ok: false, reason: 'held', wait: Math.ceil(Number(held.wait ?? 0)) }
  }

  async release(key: string, token: string): Promise<boolean> {
    validateKey(this.name, key)
    validateToken(this.name, token)
    return (await this.#run('release', this.#sql.release, { key, token })).length > 0
  }

  // DELETE ... RETURNING is already one statement; the hint is checked and not used.
  async destroy(key: string, hint?: DestroyHint): Promise<SessionRef | null> {
    validateKey(this.name, key)
    validateDestroyHint(this.name, hint)
    const rows = this.#rows('destroy', this.#sql.destroy, { key })
    const row = (rows instanceof Promise ? await rows : rows)[0]
    return row ? { key, ref: toNullableText(row.ref) } : null
  }

  async sweep(limit: number): Promise<SessionRef[]> {
    validateLimit(this.name, limit)
    return (await this.#run('sweep', this.#sql.sweep, { limit })).map(toRef)
  }

  async findByRef(ref: string): Promise<SessionInfo[]> {
    validateRef(this.name, ref)
    return (await this.#run('findByRef', this.#sql.findByRef, { ref })).map(toInfo)
  }

  async destroyByRef(ref: string): Promise<SessionRef[]> {
    validateRef(this.name, ref)
    return (await this.#run('destroyByRef', this.#sql.destroyByRef, { ref })).map(toRef)
  }

  async count(): Promise<number> {
    const rows = await this.#run('count', this.#sql.count, {})
    return toInt(rows[0]?.n ?? 0)
  }

  async refs(limit: number): Promise<string[]> {
    validateLimit(this.name, limit)
    return (await this.#run('refs', this.#sql.refs, { limit })).map((r) => toText(r.ref))
  }

  async list(options: ListOptions): Promise<StoredSession[]> {
    validateLimit(this.name, options?.limit)
    if (options.after !== undefined) validateKey(this.name, options.after)
    const rows =
      options.after === undefined
        ? await this.#run('list', this.#sql.listFirst, { limit: options.limit })
        : await this.#run('list', this.#sql.listAfter, { limit: options.limit, after: options.after })
    return rows.map((r) => ({ ...toInfo(r), data: toBytes(r.data) }))
  }

  async clear(): Promise<void> {
    await this.#run('clear', this.#sql.clear, {})
  }

  async now(): Promise<Date> {
    const rows = await this.#run('now', this.#sql.now, {})
    return toDate(rows[0]?.now)
  }

  async close(): Promise<void> {
    try {
      await this.#exec.close()
    } catch (error) {
      throw storeError(this.name, 'close', error)
    }
  }
}

function asBlob(data: Uint8Array): Buffer {
  return Buffer.isBuffer(data) ? data : Buffer.from(data.buffer, data.byteOffset, data.byteLength)
}
