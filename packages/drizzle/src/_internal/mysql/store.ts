// Over 400 lines on purpose: one SessionStore operation after another, each a few lines around its
// statement, sharing the start-up gate, the batching, the send and the retry policy; what is not an
// operation lives beside it (client, send, retry, transaction, probe, packing, sql, hosts).
import {
  type DestroyHint,
  type LeaseRequest,
  type LeaseResult,
  type ListOptions,
  type ReadResult,
  SessionError,
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
import type { ResolvedSqlOptions } from '../options.js'
import { Ready } from '../ready.js'
import { type Row, toInfo, toReadResult, toRef, updateMissed } from '../rows.js'
import { asBuffer, toBytes, toDate, toInt, toNullableText, toText } from '../values.js'
import type { MysqlClient, MysqlQueryable, OkPacket } from './client.js'
import { ER_PARSE_ERROR, errnoOf, isRetryable } from './errno.js'
import { unpackWrite } from './packing.js'
import { probeServer } from './probe.js'
import {
  claimRaced,
  classifyMysqlFailure,
  DEFAULT_RETRY,
  type MysqlRetryPolicy,
  retryMysql,
} from './retry.js'
import { sendStatement } from './send.js'
import { bind, type MysqlStatements, mysqlDdl, mysqlStatements, type Statement } from './sql.js'
import { MysqlTransactions } from './transaction.js'

export interface MysqlStoreConfig extends ResolvedSqlOptions {
  close: () => Promise<void>
  /** Which failures are retried, how often (conflicts, lost connections, failover). */
  retry?: MysqlRetryPolicy
}

/** The SessionStore over a mysql2 pool (MySQL 8, MariaDB 10.6+). */
export class MysqlSqlStore implements SqlSessionStore {
  readonly name = 'mysql'
  readonly table: string
  readonly #configuredMax: number
  #serverMax = Number.POSITIVE_INFINITY
  readonly #client: MysqlClient
  readonly #sql: MysqlStatements
  readonly #ddl: string
  readonly #ready: Ready
  readonly #close: () => Promise<void>
  readonly #limited = new Map<string, Statement>()
  // MariaDB has DELETE ... RETURNING (one round trip per destroy); learnt at start-up.
  #returning = false
  readonly #transactions: MysqlTransactions
  readonly #reads: Coalescer<ReadResult | null>
  readonly #destroys: Coalescer<SessionRef | null>
  readonly #policy: MysqlRetryPolicy
  // For statements whose caller has a better way out of a conflict than sending them again.
  readonly #noConflictRetry: MysqlRetryPolicy

  constructor(client: MysqlClient, config: MysqlStoreConfig) {
    this.table = config.table
    this.#configuredMax = config.maxDataBytes
    this.#client = client
    this.#sql = mysqlStatements(config.table)
    this.#ddl = mysqlDdl(config.table)
    this.#close = config.close
    this.#policy = config.retry ?? DEFAULT_RETRY
    this.#noConflictRetry = { ...this.#policy, conflicts: false }
    this.#transactions = new MysqlTransactions(client, this.name, this.#policy)
    this.#reads = new Coalescer(config.lanes, {
      one: (key) =>
        this.#send('read', this.#sql.read, [key], (rows) => pickRead(key, (rows as Row[])[0], true)),
      many: (keys) => {
        const padded = padKeys(keys)
        return this.#send('read', this.#sql.readMany(padded.length), padded) as Promise<Row[]>
      },
      pick: pickRead,
      size: readSize,
    })
    // Destroys batch whatever their rows' size (see RowSizes): only reads learn it.
    this.#destroys = new Coalescer(config.lanes, {
      one: (key) => this.#destroyReturning(key),
      many: (keys) => this.#destroyMany(keys),
      pick: pickDestroy,
    })
    // Start-up goes through the same retries as every statement (a first node may be down).
    this.#ready = new Ready(async () => {
      if (config.createTable) await retryMysql(this.#policy, () => this.#client.query(this.#ddl))
      await this.#probePacket()
    })
  }

  /** The configured limit, lowered to what the server's max_allowed_packet can carry. */
  get maxDataBytes(): number {
    return Math.min(this.#configuredMax, this.#serverMax)
  }

  async #probePacket(): Promise<void> {
    const server = await probeServer(this.#client, this.#sql.maxPacket, this.#policy)
    // Servers that hide the variable keep the configured limit.
    if (!server) return
    if (server.maxDataBytes !== undefined) this.#serverMax = server.maxDataBytes
    this.#returning = server.returning
  }

  async ensureSchema(): Promise<void> {
    try {
      await retryMysql(this.#policy, () => this.#client.query(this.#ddl))
      await this.#probePacket()
      this.#ready.markDone()
    } catch (error) {
      throw storeError(this.name, 'ensureSchema', error)
    }
  }

  async #start(action: string): Promise<void> {
    if (this.#ready.done) return
    try {
      await this.#ready.run()
    } catch (error) {
      throw storeError(this.name, action, error)
    }
  }

  #execute<R = unknown>(
    action: string,
    s: Statement,
    values: Record<string, unknown>,
    map?: (result: unknown) => R | PromiseLike<R>,
  ): Promise<R> {
    if (!this.#ready.done) return this.#start(action).then(() => this.#execute(action, s, values, map))
    return this.#send(action, s, bind(s, values), map)
  }

  #send<R = unknown>(
    action: string,
    s: Statement,
    params: unknown[],
    map?: (result: unknown) => R | PromiseLike<R>,
    policy: MysqlRetryPolicy = this.#policy,
  ): Promise<R> {
    return sendStatement(this.#client, this.name, action, s.text, params, policy, map)
  }

  #rows(action: string, s: Statement, values: Record<string, unknown> = {}): Promise<Row[]> {
    return this.#execute(action, s, values) as Promise<Row[]>
  }

  #ok(action: string, s: Statement, values: Record<string, unknown>): Promise<OkPacket> {
    return this.#execute(action, s, values) as Promise<OkPacket>
  }

  #limitedStatement(id: string, make: () => Statement): Statement {
    let s = this.#limited.get(id)
    if (!s) {
      // Callers use a handful of limits; the cap only guards against a caller that varies it wildly.
      if (this.#limited.size > 256) this.#limited.clear()
      s = make()
      this.#limited.set(id, s)
    }
    return s
  }

  async #transaction<T>(action: string, fn: (conn: MysqlQueryable) => Promise<T>): Promise<T> {
    await this.#start(action)
    return this.#transactions.run(action, fn)
  }

  read(key: string): Promise<ReadResult | null> {
    try {
      validateKey(this.name, key)
    } catch (error) {
      return Promise.reject(error)
    }
    if (!this.#ready.done) return this.#start('read').then(() => this.read(key))
    return this.#reads.call(key)
  }

  write(req: WriteRequest): Promise<WriteResult> {
    try {
      validateWrite(this.name, req, this.maxDataBytes)
    } catch (error) {
      return Promise.reject(error)
    }
    if (this.#ready.done) return this.#write(req)
    return this.#start('write').then(() => {
      // The server limit is known only after start-up; check again before sending anything.
      validateWrite(this.name, req, this.maxDataBytes)
      return this.#write(req)
    })
  }

  #write(req: WriteRequest): Promise<WriteResult> {
    const values = {
      key: req.key,
      data: asBuffer(req.data),
      ref: req.ref,
      ttl: req.ttl * 1000,
      maxage: req.maxAge === undefined ? null : req.maxAge * 1000,
      fresh: Math.min(req.ttl, req.maxAge ?? req.ttl) * 1000,
      version: req.version,
      lease: req.lease ?? null,
    }
    const withMaxAge = req.maxAge !== undefined
    if (req.mode === 'update') {
      const s = this.#sql.update(
        withMaxAge,
        req.version !== undefined,
        req.lease !== undefined,
        req.keepExpiry === true,
      )
      // Failure path only: a second statement tells a stale version from a missing row.
      return this.#execute(
        'write',
        s,
        values,
        (ok): WriteResult | Promise<WriteResult> => unpackWrite((ok as OkPacket).insertId) ?? this.#why(req),
      )
    }
    const s =
      req.mode === 'insert' ? this.#sql.insert : withMaxAge ? this.#sql.upsertMaxAge : this.#sql.upsert
    return this.#execute(
      'write',
      s,
      values,
      (ok): WriteResult => unpackWrite((ok as OkPacket).insertId) ?? { ok: false, reason: 'exists' },
    )
  }

  /** Why an update matched no row: the row is live (so its version moved on) or gone. */
  async #why(req: WriteRequest): Promise<WriteResult> {
    const live = await this.#rows('write', this.#sql.liveVersion, { key: req.key })
    return updateMissed(live.length > 0, req)
  }

  touch(req: TouchRequest): Promise<boolean> {
    try {
      validateTouch(this.name, req)
    } catch (error) {
      return Promise.reject(error)
    }
    const s = this.#sql.touch(req.maxAge !== undefined, req.lease !== undefined)
    const values = {
      key: req.key,
      ttl: req.ttl * 1000,
      maxage: req.maxAge === undefined ? null : req.maxAge * 1000,
      lease: req.lease ?? null,
      slack: touchSlack(req.ttl) * 1000,
    }
    return this.#execute('touch', s, values, (ok) => toInt((ok as OkPacket).insertId) === 1)
  }

  async lease(req: LeaseRequest): Promise<LeaseResult> {
    validateLease(this.name, req)
    const values = { key: req.key, token: req.token, ttl: req.ttl * 1000 }
    await this.#start('lease')
    try {
      // A conflict is not retried here: another node changed the row at that moment, most likely
      // taking the lease; the row read below says who holds it, and the manager waits its turn.
      await this.#send(
        'lease',
        this.#sql.lease,
        bind(this.#sql.lease, values),
        undefined,
        this.#noConflictRetry,
      )
    } catch (error) {
      if (classifyMysqlFailure(error) !== 'conflict') throw error
    }
    // MySQL has no UPDATE ... RETURNING: the row says whose lease it is now.
    const row = (await this.#rows('lease', this.#sql.leaseRead, values))[0]
    if (!row) return { ok: false, reason: 'missing' }
    if (row.lease !== null && toText(row.lease) === req.token)
      return { ok: true, row: toReadResult(req.key, row) }
    return { ok: false, reason: 'held', wait: Math.ceil(toInt(row.wait ?? 0)) }
  }

  async release(key: string, token: string): Promise<boolean> {
    validateKey(this.name, key)
    validateToken(this.name, token)
    return (await this.#ok('release', this.#sql.release, { key, token })).affectedRows > 0
  }

  destroy(key: string, hint?: DestroyHint): Promise<SessionRef | null> {
    try {
      validateKey(this.name, key)
      validateDestroyHint(this.name, hint)
    } catch (error) {
      return Promise.reject(error)
    }
    if (!this.#ready.done) return this.#start('destroy').then(() => this.destroy(key, hint))
    // MariaDB: destroys that wait for a lane go together (one DELETE ... IN ... RETURNING).
    if (this.#returning) return this.#destroys.call(key)
    return this.#destroyTwoStep(key, hint)
  }

  // One promise on the way that succeeds, as for reads; the fallback is on the failure path only.
  #destroyReturning(key: string): Promise<SessionRef | null> {
    if (!this.#returning) return this.#destroyTwoStep(key, undefined)
    return this.#send('destroy', this.#sql.destroyReturning, [key], (rows) =>
      pickDestroy(key, (rows as Row[])[0], true),
    ).catch((error: unknown) => {
      // A server that called itself MariaDB but refuses the syntax (ER_PARSE_ERROR): use the
      // two-statement path from now on.
      if (errnoOf(error) !== ER_PARSE_ERROR) throw error
      this.#returning = false
      return this.#destroyTwoStep(key, undefined)
    })
  }

  // One DELETE for several keys, each row reported with its key. Rows are locked in key order, so
  // batches never deadlock each other, but one can with a transaction that locks by ref
  // (destroyByRef); the loser changed nothing, and the keys then go one by one (a single-row
  // delete holds no lock while it waits for another).
  async #destroyMany(keys: string[]): Promise<Row[]> {
    if (this.#returning) {
      const padded = padKeys(keys)
      try {
        // A deadlocked batch goes key by key below rather than again as a whole.
        return (await this.#send(
          'destroy',
          this.#sql.destroyMany(padded.length),
          padded,
          undefined,
          this.#noConflictRetry,
        )) as Row[]
      } catch (error) {
        if (!isRetryable(error) && errnoOf(error) !== ER_PARSE_ERROR) throw error
      }
    }
    const rows: Row[] = []
    for (const key of keys) {
      const one = await this.#destroyReturning(key)
      if (one) rows.push({ key: one.key, ref: one.ref })
    }
    return rows
  }

  async #destroyTwoStep(key: string, hint: DestroyHint | undefined): Promise<SessionRef | null> {
    // MySQL 8 has no DELETE ... RETURNING: read the ref, then delete only if it is still that ref.
    // A concurrent change of ref makes the delete miss and we look again; a concurrent delete
    // makes it miss and the next look finds nothing, so each row is reported once. A caller that
    // read the ref with the row (the manager, for each loaded session it destroys) saves the
    // first look. (On MariaDB the hint is not used: the ref comes back with the delete, and a
    // conditional delete is no faster there: docs/architecture-drizzle.md.)
    let ref: unknown = hint?.ref
    for (let attempt = 0; attempt < 20; attempt++) {
      if (ref === undefined || attempt > 0) {
        const row = (await this.#rows('destroy', this.#sql.destroyRef, { key }))[0]
        if (!row) return null
        ref = row.ref
      }
      const ok = await this.#ok('destroy', this.#sql.destroy, { key, ref })
      if (ok.affectedRows > 0) return { key, ref: toNullableText(ref) }
    }
    throw new SessionError('E_CONFLICT', this.name, 'destroy kept racing with writers changing the ref')
  }

  async sweep(limit: number): Promise<SessionRef[]> {
    validateLimit(this.name, limit)
    const lock = this.#limitedStatement(`sweep:${limit}`, () => this.#sql.sweepLock(limit))
    return this.#transaction('sweep', (conn) => this.#lockAndDelete(conn, lock, {}))
  }

  async destroyByRef(ref: string): Promise<SessionRef[]> {
    validateRef(this.name, ref)
    return this.#transaction('destroyByRef', (conn) => this.#lockAndDelete(conn, this.#sql.refLock, { ref }))
  }

  async #lockAndDelete(
    conn: MysqlQueryable,
    lock: Statement,
    values: Record<string, unknown>,
  ): Promise<SessionRef[]> {
    const [rows] = await conn.execute(lock.text, bind(lock, values))
    const locked = rows as Row[]
    if (locked.length === 0) return []
    const [ok] = await conn.query(this.#sql.deleteKeys.text, [locked.map((r) => r.key)])
    // Row locks are per node on Galera: another node may have claimed the same rows. Only rows
    // this statement deleted are ours to report; certification then lets one of the two commit.
    if ((ok as OkPacket).affectedRows !== locked.length)
      throw claimRaced(locked.length, (ok as OkPacket).affectedRows)
    return locked.map(toRef)
  }

  async findByRef(ref: string): Promise<SessionInfo[]> {
    validateRef(this.name, ref)
    return (await this.#rows('findByRef', this.#sql.findByRef, { ref })).map(toInfo)
  }

  async count(): Promise<number> {
    return toInt((await this.#rows('count', this.#sql.count))[0]?.n ?? 0)
  }

  async refs(limit: number): Promise<string[]> {
    validateLimit(this.name, limit)
    const s = this.#limitedStatement(`refs:${limit}`, () => this.#sql.refs(limit))
    return (await this.#rows('refs', s)).map((r) => toText(r.ref))
  }

  async list(options: ListOptions): Promise<StoredSession[]> {
    validateLimit(this.name, options?.limit)
    if (options.after !== undefined) validateKey(this.name, options.after)
    const after = options.after !== undefined
    const s = this.#limitedStatement(`list:${options.limit}:${after}`, () =>
      this.#sql.list(options.limit, after),
    )
    const rows = await this.#rows('list', s, { after: options.after })
    return rows.map((r) => ({ ...toInfo(r), data: toBytes(r.data) }))
  }

  async clear(): Promise<void> {
    await this.#rows('clear', this.#sql.clear)
  }

  async now(): Promise<Date> {
    return toDate((await this.#rows('now', this.#sql.now))[0]?.now)
  }

  async close(): Promise<void> {
    try {
      await this.#close()
    } catch (error) {
      throw storeError(this.name, 'close', error)
    }
  }
}
