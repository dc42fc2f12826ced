/**
 * `@sessile/drizzle/mysql`: sessions in MySQL 8 or MariaDB 10.6+ through mysql2.
 * Only this entry imports the driver.
 */
import mysql from 'mysql2'
import type { MysqlClient } from './_internal/mysql/client.js'
import { type CorePool, HostPools, hostUrls } from './_internal/mysql/hosts.js'
import { preparedSender } from './_internal/mysql/prepared.js'
import { DEFAULT_RETRY, type MysqlFailure, type MysqlRetryPolicy } from './_internal/mysql/retry.js'
import { MysqlSqlStore } from './_internal/mysql/store.js'
import { syncWaitOnConnect } from './_internal/mysql/sync-wait.js'
import { optionError, resolveSqlOptions } from './_internal/options.js'
import type { SqlSessionStore, SqlStoreOptions } from './options.js'

export type { MysqlFailure } from './_internal/mysql/retry.js'
export { mysqlSessionsTable } from './_internal/mysql/table.js'
export type { SqlSessionStore, SqlStoreOptions } from './options.js'

const NAME = 'mysql'

/** A mysql2 pool or connection, callback or promise flavour (a callback one is used via `.promise()`). */
export type Mysql2Client = object

/** Options of {@link mysqlStore}. Give exactly one of `url`, `db` or `client`. */
export interface MysqlStoreOptions extends SqlStoreOptions {
  /**
   * A `mysql://` or `mariadb://` URL; the store opens (and on `close()` ends) its own pool. Several
   * nodes of a multi-primary cluster (Galera) are listed comma-separated,
   * `mysql://user@node1:3306,node2:3306,node3:3306/db`: statements go to the first node that
   * answers, and move on to the next when it goes away (see `hosts`).
   * @default undefined
   */
  url?: string
  /**
   * The nodes to use instead of the URL's host, as `host:port`, nearest first. With more than
   * one, a node whose connection is lost, refused or answers "not ready" is passed over for a
   * moment and the failed statement is retried on the next one; the store comes back to an
   * earlier node once it answers again. Only with `url`.
   * @default the URL's hosts
   */
  hosts?: string[]
  /**
   * `wsrep_sync_wait` on the connections the store opens (Galera): 1 makes every read wait until
   * the node has applied all that the cluster committed before it, so a session written through
   * one node is read through another by the next request. 0 turns it off (reads may then lag
   * behind other nodes' writes for a moment; writes stay safe, certification refuses stale ones).
   * Servers without wsrep ignore it. Only with `url`.
   * @default 1
   */
  syncWait?: number
  /**
   * Called before each retry of a statement or transaction (metrics): what failed (`conflict`:
   * deadlock or certification failure; `lost`; `not-ready`; `unreachable`) and the try about to run.
   * @default undefined
   */
  onRetry?: (failure: MysqlFailure, attempt: number, error: unknown) => void
  /**
   * Tries in all for a statement or transaction that fails with a conflict (deadlock, lock wait
   * timeout, Galera certification failure) or, with several hosts, a lost or refused node. Each
   * retry waits a jittered, growing pause.
   * @default 8
   */
  maxAttempts?: number
  /**
   * Your Drizzle database (`drizzle-orm/mysql2`); the store reuses its client (`db.$client`) and
   * never closes it. Pass one made from a pool: transactions need a connection of their own.
   * @default undefined
   */
  db?: { $client: Mysql2Client }
  /**
   * Your mysql2 pool (or connection); reused, never closed by the store.
   * @default undefined
   */
  client?: Mysql2Client
  /**
   * Pool size when the store opens its own connections from `url`.
   * @default 10
   */
  connectionLimit?: number
  /**
   * Milliseconds to wait for a connection the store opens.
   * @default 10000
   */
  connectTimeout?: number
}

/**
 * A session store in MySQL 8 or MariaDB 10.6+ through mysql2. Writes are one prepared statement
 * (`INSERT ... ON DUPLICATE KEY UPDATE` / `UPDATE`); expiry is decided on the server's UTC clock.
 *
 * @example
 * import { createSessions } from '@sessile/core'
 * import { mysqlStore } from '@sessile/drizzle/mysql'
 * const sessions = createSessions({ store: mysqlStore({ url: process.env.DATABASE_URL }) })
 */
export function mysqlStore(options: MysqlStoreOptions): SqlSessionStore {
  const resolved = resolveSqlOptions(NAME, options, { maxTableBytes: 64, hardMaxBytes: 1024 * 1024 * 1024 })
  const given = [options.url, options.db, options.client].filter((v) => v !== undefined).length
  if (given !== 1) throw optionError(NAME, 'give exactly one of url, db or client')
  const retry = retryPolicy(options)
  if (options.url !== undefined) {
    const { client, close, failover } = ownPool(options)
    return new MysqlSqlStore(client, { ...resolved, close, retry: { ...retry, failover } })
  }
  if (options.hosts !== undefined || options.syncWait !== undefined) {
    throw optionError(NAME, 'hosts and syncWait apply to the pool the store opens from url')
  }
  return new MysqlSqlStore(borrowed(options.client ?? options.db?.$client), {
    ...resolved,
    retry,
    close: async () => {},
  })
}

function borrowed(given: unknown): MysqlClient {
  const candidate = given as Partial<CoreClient> | null | undefined
  // drizzle-orm/mysql2 accepts callback clients too; they are driven through their callback API.
  if (isCore(candidate)) return direct(candidate)
  // mysql2's own promise pool or connection wraps a callback one (`.pool` / `.connection`): drive
  // that one. Other wrappers are used as given: they may add behaviour of their own.
  const wrapper = given as { pool?: unknown; connection?: unknown; constructor?: { name?: unknown } }
  const inner = wrapper?.pool ?? wrapper?.connection
  if (PROMISE_WRAPPERS.has(String(wrapper?.constructor?.name)) && isCore(inner)) {
    return direct(inner, given as MysqlClient)
  }
  const other = given as Partial<MysqlClient> | undefined
  if (typeof other?.execute !== 'function' || typeof other.query !== 'function') {
    throw optionError(NAME, 'db must be a drizzle-orm/mysql2 database and client a mysql2 pool or connection')
  }
  // Called as methods of the given object: a wrapper's methods may use `this`.
  const client = other as MysqlClient
  const wrapped: MysqlClient = {
    execute: (sql, values) => client.execute(sql, values),
    query: (sql, values) => client.query(sql, values),
    send: (sql, values, done) => {
      client.execute(sql, values).then((result) => done(null, result[0]), done)
    },
  }
  if (typeof client.getConnection === 'function') {
    wrapped.getConnection = () => (client as Required<MysqlClient>).getConnection()
  }
  return wrapped
}

const PROMISE_WRAPPERS = new Set(['PromisePool', 'PromiseConnection', 'PromisePoolConnection'])

type Done = (error: unknown, rows?: unknown, fields?: unknown) => void

/** The callback API of a mysql2 pool or connection (`mysql2`, not `mysql2/promise`). */
interface CoreClient {
  execute(sql: string, values: unknown, done: Done): unknown
  execute(sql: string, done: Done): unknown
  query(sql: string, values: unknown, done: Done): unknown
  query(sql: string, done: Done): unknown
  promise(): unknown
}

function isCore(value: unknown): value is CoreClient {
  const v = value as Partial<CoreClient> | null | undefined
  return typeof v?.promise === 'function' && typeof v.execute === 'function' && typeof v.query === 'function'
}

/**
 * A MysqlClient over mysql2's callback API. Its promise API captures a stack trace on every call
 * (the `trace` option, on by default), a large share of the app's CPU per statement
 * (docs/architecture-drizzle.md). The store wraps every failure with its action, so that trace
 * is not needed.
 * Transactions (rare: sweep, destroyByRef) still take their connection through the promise API.
 */
function direct(core: CoreClient, wrapped = core.promise() as MysqlClient): MysqlClient {
  const call =
    (method: 'execute' | 'query') =>
    (sql: string, values?: unknown): Promise<[unknown, unknown]> =>
      new Promise((resolve, reject) => {
        const done: Done = (error, rows, fields) => (error ? reject(error) : resolve([rows, fields]))
        if (values === undefined) core[method](sql, done)
        else core[method](sql, values, done)
      })
  const client: MysqlClient = {
    execute: call('execute'),
    query: call('query'),
    // The hot path: the store's own callback goes straight to a statement prepared on the
    // connection (rows or OK packet first).
    send: preparedSender(core),
  }
  const getConnection = wrapped.getConnection
  if (typeof getConnection === 'function') client.getConnection = () => getConnection.call(wrapped)
  return client
}

function retryPolicy(options: MysqlStoreOptions): MysqlRetryPolicy {
  const attempts = options.maxAttempts ?? DEFAULT_RETRY.attempts
  if (!Number.isInteger(attempts) || attempts < 1 || attempts > 100) {
    throw optionError(NAME, 'maxAttempts must be a whole number from 1 to 100')
  }
  if (options.onRetry !== undefined && typeof options.onRetry !== 'function') {
    throw optionError(NAME, 'onRetry must be a function')
  }
  return { attempts, failover: false, onRetry: options.onRetry }
}

function ownPool(options: MysqlStoreOptions): {
  client: MysqlClient
  close: () => Promise<void>
  failover: boolean
} {
  const url = options.url
  if (typeof url !== 'string' || !/^(mysql|mariadb):\/\//i.test(url)) {
    throw optionError(NAME, 'url must be a mysql:// or mariadb:// URL')
  }
  const connectionLimit = options.connectionLimit ?? 10
  if (!Number.isInteger(connectionLimit) || connectionLimit < 1) {
    throw optionError(NAME, 'connectionLimit must be a whole number of at least 1')
  }
  const connectTimeout = options.connectTimeout ?? 10_000
  if (!Number.isInteger(connectTimeout) || connectTimeout < 1) {
    throw optionError(NAME, 'connectTimeout must be a whole number of ms')
  }
  const syncWait = options.syncWait ?? 1
  if (!Number.isInteger(syncWait) || syncWait < 0 || syncWait > 15) {
    throw optionError(NAME, 'syncWait must be a whole number from 0 to 15 (wsrep_sync_wait)')
  }
  if (
    options.hosts !== undefined &&
    (!Array.isArray(options.hosts) ||
      options.hosts.length === 0 ||
      !options.hosts.every((h) => typeof h === 'string' && /^[^\s,/@?#]+$/.test(h)))
  ) {
    throw optionError(NAME, 'hosts must be a non-empty array of "host:port" strings')
  }
  const urls = hostUrls(url.replace(/^mariadb:/i, 'mysql:'), options.hosts)
  const pools: mysql.Pool[] = []
  try {
    for (const uri of urls)
      pools.push(mysql.createPool({ uri, connectionLimit, connectTimeout, enableKeepAlive: true }))
  } catch (error) {
    for (const p of pools) p.end()
    throw optionError(NAME, `cannot use url: ${error instanceof Error ? error.message : String(error)}`)
  }
  for (const pool of pools) {
    // A connection the server drops while idle emits 'error'; without a listener that would crash
    // the process. The pool removes the connection and opens a new one on demand.
    pool.on('connection', (connection) => {
      connection.on('error', () => {})
    })
    if (syncWait > 0) syncWaitOnConnect(pool as unknown as CorePool, syncWait)
  }
  const only = pools.length === 1 ? (pools[0] as mysql.Pool) : undefined
  const hosts = only ? undefined : new HostPools(pools as unknown as CorePool[])
  let closed = false
  return {
    client: direct((only ?? hosts) as unknown as CoreClient),
    failover: hosts !== undefined,
    close: async () => {
      if (closed) return
      closed = true
      if (only) await only.promise().end()
      else await hosts?.end()
    },
  }
}
