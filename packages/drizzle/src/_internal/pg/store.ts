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
import { Coalescer, padKeys, pickDestroy, pickRead, readSize } from '../coalesce.js'
import { isPgConnectionLost, isPgRetryable, retryOn } from '../connection-lost.js'
import type { ResolvedSqlOptions } from '../options.js'
import { Ready } from '../ready.js'
import { type Row, toInfo, toReadResult, toRef, updateMissed } from '../rows.js'
import { asBuffer, toBytes, toDate, toInt, toText } from '../values.js'
import { type PgStatements, pgDdl, pgQualified, pgStatements } from './sql.js'

export type { Row }

/** How the store reaches a PostgreSQL-wire database: postgres.js, PGlite or anything alike. */
export interface PgExecutor {
  query(text: string, params: unknown[]): Promise<Row[]>
  /** Releases the connection if the store opened it; a no-op for a borrowed client. */
  close(): Promise<void>
}

// Concurrent CREATE ... IF NOT EXISTS can still collide in the catalog; the loser just retries.
const CATALOG_RACE = new Set(['23505', '42P07', '42710'])

export interface PgStoreConfig extends ResolvedSqlOptions {
  schema?: string | undefined
}

/** The SessionStore over any PostgreSQL-wire executor; `pgStore` and `pgliteStore` wrap it. */
export class PgSqlStore implements SqlSessionStore {
  readonly name: string
  readonly table: string
  readonly maxDataBytes: number
  readonly #exec: PgExecutor
  readonly #sql: PgStatements
  readonly #ddl: string[]
  readonly #ready: Ready
  readonly #reads: Coalescer<ReadResult | null>
  readonly #destroys: Coalescer<SessionRef | null>

  constructor(name: string, exec: PgExecutor, config: PgStoreConfig) {
    this.name = name
    this.table = config.table
    this.maxDataBytes = config.maxDataBytes
    this.#exec = exec
    this.#sql = pgStatements(pgQualified(config.table, config.schema))
    this.#ddl = pgDdl(config.table, config.schema)
    this.#ready = new Ready(config.createTable ? () => this.#createSchema() : async () => {})
    this.#reads = new Coalescer(config.lanes, {
      one: (key) => this.#run('read', this.#sql.read, [key]).then((rows) => pickRead(key, rows[0], true)),
      many: (keys) => {
        const padded = padKeys(keys)
        return this.#run('read', this.#sql.readMany(padded.length), padded)
      },
      pick: pickRead,
      size: readSize,
    })
    // Destroys batch whatever their rows' size (see RowSizes): only reads learn it.
    this.#destroys = new Coalescer(config.lanes, {
      one: (key) =>
        this.#run('destroy', this.#sql.destroy, [key]).then((rows) => pickDestroy(key, rows[0], true)),
      many: (keys) => this.#destroyMany(keys),
      pick: pickDestroy,
    })
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
    for (let attempt = 0; ; attempt++) {
      try {
        for (const statement of this.#ddl) await this.#exec.query(statement, [])
        return
      } catch (error) {
        const code = (error as { code?: unknown } | null)?.code
        if (attempt >= 5 || typeof code !== 'string' || !CATALOG_RACE.has(code)) throw error
        await new Promise((resolve) => setTimeout(resolve, 10 + Math.random() * 40))
      }
    }
  }

  // One promise per statement on the way that succeeds; retries and the error wrapping take the
  // slower path only when the first try failed (as in the MySQL store).
  // `retryable` says which failures run the statement again (a lost connection or a conflict).
  #run(action: string, text: string, params: unknown[], retryable = isPgRetryable): Promise<Row[]> {
    if (!this.#ready.done) {
      return this.#ready.run().then(
        () => this.#run(action, text, params, retryable),
        (error: unknown) => {
          throw storeError(this.name, action, error)
        },
      )
    }
    let pending: Promise<Row[]>
    try {
      pending = this.#exec.query(text, params)
    } catch (error) {
      pending = Promise.reject(error)
    }
    return pending.catch((error: unknown) => this.#retry(action, text, params, error, retryable))
  }

  async #retry(
    action: string,
    text: string,
    params: unknown[],
    error: unknown,
    retryable: (error: unknown) => boolean,
  ): Promise<Row[]> {
    try {
      return await retryOn(retryable, () => this.#exec.query(text, params), { error })
    } catch (e) {
      throw storeError(this.name, action, e)
    }
  }

  read(key: string): Promise<ReadResult | null> {
    try {
      validateKey(this.name, key)
    } catch (error) {
      return Promise.reject(error)
    }
    return this.#reads.call(key)
  }

  async write(req: WriteRequest): Promise<WriteResult> {
    validateWrite(this.name, req, this.maxDataBytes)
    const maxAge = req.maxAge ?? null
    const data = asBuffer(req.data)
    if (req.mode === 'update') {
      const u = this.#sql.update(req.version !== undefined, req.lease !== undefined, req.keepExpiry === true)
      const values = {
        key: req.key,
        data,
        ref: req.ref,
        ttl: req.ttl,
        maxAge,
        version: req.version,
        lease: req.lease,
      }
      const row = (
        await this.#run(
          'write',
          u.text,
          u.params.map((name) => values[name]),
        )
      )[0]
      if (row) return { ok: true, version: toInt(row.version), expiry: toDate(row.expiry) }
      // Failure path only: a second statement tells a newer version from a missing row.
      const live = await this.#run('write', this.#sql.liveVersion, [req.key])
      return updateMissed(live.length > 0, req)
    }
    const text = req.mode === 'insert' ? this.#sql.insert : this.#sql.upsert
    const row = (await this.#run('write', text, [req.key, data, req.ref, req.ttl, maxAge]))[0]
    if (!row) return { ok: false, reason: 'exists' }
    return { ok: true, version: toInt(row.version), expiry: toDate(row.expiry) }
  }

  async touch(req: TouchRequest): Promise<boolean> {
    validateTouch(this.name, req)
    const params = [req.key, req.ttl, req.maxAge ?? null, touchSlack(req.ttl)]
    const rows =
      req.lease === undefined
        ? await this.#run('touch', this.#sql.touch, params)
        : await this.#run('touch', this.#sql.touchReleasing, [...params, req.lease])
    return rows.length > 0
  }

  async lease(req: LeaseRequest): Promise<LeaseResult> {
    validateLease(this.name, req)
    const row = (await this.#run('lease', this.#sql.lease, [req.key, req.token, req.ttl]))[0]
    if (row && row.version !== null && row.version !== undefined) {
      return { ok: true, row: toReadResult(req.key, row) }
    }
    if (row?.live !== true) return { ok: false, reason: 'missing' }
    return { ok: false, reason: 'held', wait: Math.ceil(Number(row.wait ?? 0)) }
  }

  async release(key: string, token: string): Promise<boolean> {
    validateKey(this.name, key)
    validateToken(this.name, token)
    return (await this.#run('release', this.#sql.release, [key, token])).length > 0
  }

  // DELETE ... RETURNING is already one round trip here; the hint is checked and not used.
  destroy(key: string, hint?: DestroyHint): Promise<SessionRef | null> {
    try {
      validateKey(this.name, key)
      validateDestroyHint(this.name, hint)
    } catch (error) {
      return Promise.reject(error)
    }
    return this.#destroys.call(key)
  }

  // One DELETE for several keys. Rows are locked in key order, so batches never deadlock each
  // other, but one can with a transaction that locks by ref; the loser changed nothing, and the
  // keys then go one by one (a single-row delete holds no lock while it waits for another), not
  // as the same batch again, which could deadlock again.
  async #destroyMany(keys: string[]): Promise<Row[]> {
    const padded = padKeys(keys)
    try {
      return await this.#run('destroy', this.#sql.destroyMany(padded.length), padded, isPgConnectionLost)
    } catch (error) {
      if ((error as { cause?: { code?: unknown } }).cause?.code !== '40P01') throw error
    }
    const rows: Row[] = []
    for (const key of keys) {
      const row = (await this.#run('destroy', this.#sql.destroy, [key]))[0]
      if (row) rows.push({ key, ref: row.ref })
    }
    return rows
  }

  async sweep(limit: number): Promise<SessionRef[]> {
    validateLimit(this.name, limit)
    const rows = await this.#run('sweep', this.#sql.sweep, [limit])
    return rows.map(toRef)
  }

  async findByRef(ref: string): Promise<SessionInfo[]> {
    validateRef(this.name, ref)
    const rows = await this.#run('findByRef', this.#sql.findByRef, [ref])
    return rows.map(toInfo)
  }

  async destroyByRef(ref: string): Promise<SessionRef[]> {
    validateRef(this.name, ref)
    const rows = await this.#run('destroyByRef', this.#sql.destroyByRef, [ref])
    return rows.map(toRef)
  }

  async count(): Promise<number> {
    const rows = await this.#run('count', this.#sql.count, [])
    return toInt(rows[0]?.n ?? 0)
  }

  async refs(limit: number): Promise<string[]> {
    validateLimit(this.name, limit)
    const rows = await this.#run('refs', this.#sql.refs, [limit])
    return rows.map((r) => toText(r.ref))
  }

  async list(options: ListOptions): Promise<StoredSession[]> {
    validateLimit(this.name, options?.limit)
    if (options.after !== undefined) validateKey(this.name, options.after)
    const rows =
      options.after === undefined
        ? await this.#run('list', this.#sql.listFirst, [options.limit])
        : await this.#run('list', this.#sql.listAfter, [options.limit, options.after])
    return rows.map((r) => ({ ...toInfo(r), data: toBytes(r.data) }))
  }

  async clear(): Promise<void> {
    await this.#run('clear', this.#sql.clear, [])
  }

  async now(): Promise<Date> {
    const rows = await this.#run('now', this.#sql.now, [])
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
