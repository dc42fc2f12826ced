import { classifyMysqlFailure } from './retry.js'

type Done = (error: unknown, rows?: unknown, fields?: unknown) => void

/** A mysql2 pool connection (callback API), as far as the store uses one. */
interface CoreConnection {
  execute(sql: string, values: unknown, done: Done): unknown
  query(sql: string, values: unknown, done: Done): unknown
  prepare(sql: string, done: (error: unknown, statement?: CorePrepared) => void): unknown
  release(): void
  destroy(): void
  on(event: 'error', listener: (error: unknown) => void): unknown
}

interface CorePrepared {
  execute(values: unknown[], done: Done): unknown
}

/** A mysql2 pool (callback API), as far as the store uses one. */
export interface CorePool {
  execute(sql: string, values: unknown, done: Done): unknown
  query(sql: string, values: unknown, done: Done): unknown
  getConnection(done: (error: unknown, connection?: CoreConnection) => void): unknown
  on(event: 'connection', listener: (connection: CoreConnection) => void): unknown
  promise(): { end(): Promise<void> }
}

/**
 * The connection URLs a `mysql://` URL names: `mysql://user@h1:3306,h2:3306/db` gives one per
 * host, each with the same user, database and parameters. `hosts` (`host:port` items), when
 * given, replaces the URL's hosts.
 */
export function hostUrls(url: string, hosts?: readonly string[]): string[] {
  const m = /^(mysql|mariadb):\/\/([^@/?#]*@)?([^/?#]*)(.*)$/i.exec(url)
  if (!m) return [url]
  const [, , user = '', given = '', rest = ''] = m
  const list = hosts ?? given.split(',')
  return list.map((h) => `mysql://${user}${h.trim()}${rest}`)
}

/** How long a node that failed is passed over before it is tried again, in ms. */
const DOWN_FOR = 1000

/**
 * Several pools, one per node of a multi-primary cluster (Galera), that look like one mysql2 pool.
 * Statements go to the first node in the given order that has not failed lately; a node whose
 * connection was lost, refused or answered "not ready" is passed over for a moment, so the
 * store's retry of that statement goes to the next node. The order is the caller's: an app
 * server lists its nearest node first and comes back to it once it answers again.
 */
export class HostPools {
  readonly #pools: CorePool[]
  readonly #downUntil: number[]
  readonly #wrapped = new WeakMap<CoreConnection, CoreConnection>()

  constructor(pools: CorePool[]) {
    this.#pools = pools
    this.#downUntil = pools.map(() => 0)
  }

  /** The index of the node statements go to now. */
  current(): number {
    const now = Date.now()
    const up = this.#downUntil.findIndex((t) => t <= now)
    if (up >= 0) return up
    // Every node failed lately: the one that failed longest ago is the best guess.
    let best = 0
    for (let i = 1; i < this.#downUntil.length; i++) {
      if ((this.#downUntil[i] as number) < (this.#downUntil[best] as number)) best = i
    }
    return best
  }

  #note(index: number, error: unknown): void {
    if (error === null || error === undefined) return
    const failure = classifyMysqlFailure(error)
    if (failure === 'lost' || failure === 'unreachable' || failure === 'not-ready') {
      this.#downUntil[index] = Date.now() + DOWN_FOR
    }
  }

  #noting(index: number, done: Done): Done {
    return (error, rows, fields) => {
      this.#note(index, error)
      done(error, rows, fields)
    }
  }

  execute(sql: string, values: unknown, done?: Done): void {
    const i = this.current()
    if (typeof values === 'function') this.#pools[i]?.execute(sql, undefined, this.#noting(i, values as Done))
    else this.#pools[i]?.execute(sql, values, this.#noting(i, done as Done))
  }

  query(sql: string, values: unknown, done?: Done): void {
    const i = this.current()
    if (typeof values === 'function') this.#pools[i]?.query(sql, undefined, this.#noting(i, values as Done))
    else this.#pools[i]?.query(sql, values, this.#noting(i, done as Done))
  }

  getConnection(done: (error: unknown, connection?: CoreConnection) => void): void {
    const i = this.current()
    ;(this.#pools[i] as CorePool).getConnection((error, conn) => {
      this.#note(i, error)
      done(error, conn ? this.#wrap(i, conn) : undefined)
    })
  }

  // The same wrapper for the same connection: the prepared-statement cache is keyed by it.
  #wrap(index: number, conn: CoreConnection): CoreConnection {
    let w = this.#wrapped.get(conn)
    if (w) return w
    const note = (done: Done): Done => this.#noting(index, done)
    w = {
      execute: (sql, values, done) => conn.execute(sql, values, note(done)),
      query: (sql, values, done) => conn.query(sql, values, note(done)),
      prepare: (sql, done) =>
        conn.prepare(sql, (error, statement) => {
          this.#note(index, error)
          done(
            error,
            statement && { execute: (values: unknown[], d: Done) => statement.execute(values, note(d)) },
          )
        }),
      release: () => conn.release(),
      destroy: () => conn.destroy(),
      on: (event, listener) => conn.on(event, listener),
    }
    this.#wrapped.set(conn, w)
    return w
  }

  /** The promise API the store takes transaction connections from. */
  promise(): { getConnection(): Promise<unknown>; end(): Promise<void> } {
    const call =
      (conn: CoreConnection, method: 'execute' | 'query') =>
      (sql: string, values?: unknown): Promise<[unknown, unknown]> =>
        new Promise((resolve, reject) => {
          conn[method](sql, values, (error, rows, fields) =>
            error ? reject(error) : resolve([rows, fields]),
          )
        })
    return {
      getConnection: () =>
        new Promise((resolve, reject) => {
          this.getConnection((error, conn) => {
            if (error || !conn) {
              reject(error ?? new Error('mysql2 lent no connection'))
              return
            }
            resolve({
              execute: call(conn, 'execute'),
              query: call(conn, 'query'),
              release: () => conn.release(),
              destroy: () => conn.destroy(),
            })
          })
        }),
      end: () => this.end(),
    }
  }

  async end(): Promise<void> {
    await Promise.all(this.#pools.map((p) => p.promise().end()))
  }
}
