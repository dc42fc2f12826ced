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
  type WriteRequest,
  type WriteResult,
} from '@sessile/core'
import { DEFAULT_MAX_DATA_BYTES, resolveSqlOptions } from './_internal/options.js'
import type { SqlSessionStore, SqlStoreOptions } from './options.js'

/** The dialect a URL names. */
export type Dialect = 'pg' | 'mysql' | 'pglite' | 'sqlite'

/** What {@link parseStoreUrl} makes of a URL. */
export interface ParsedStoreUrl {
  dialect: Dialect
  /** The URL to hand to the driver (`mariadb://` becomes `mysql://`); unset for PGlite. */
  url?: string
  /** PGlite's data directory; unset means in memory. */
  dataDir?: string
  /** SQLite's database file, or `:memory:`; unset for a `libsql://` URL (then in `url`). */
  path?: string
}

/** Options of {@link createStore}: the shared store options, applied to whichever dialect the URL names. */
export type CreateStoreOptions = SqlStoreOptions

/**
 * Tell the dialect from a URL, like ADOdb's DSNs: `postgres://` and `postgresql://` (PostgreSQL),
 * `mysql://` and `mariadb://` (MySQL/MariaDB), `pglite://<dir>` or `pglite:memory` (embedded),
 * `sqlite:<file>` or `sqlite::memory:` (SQLite), `libsql://<host>` (a libSQL server).
 * Anything else is refused with `E_OPTION`.
 */
export function parseStoreUrl(url: string): ParsedStoreUrl {
  if (typeof url !== 'string' || url.length === 0) {
    throw new SessionError('E_OPTION', 'drizzle', 'createStore needs a database URL string')
  }
  const scheme = /^([a-z][a-z0-9+.-]*):/i.exec(url)?.[1]?.toLowerCase()
  switch (scheme) {
    case 'postgres':
    case 'postgresql':
      return { dialect: 'pg', url }
    case 'mysql':
      return { dialect: 'mysql', url }
    case 'mariadb':
      return { dialect: 'mysql', url: `mysql:${url.slice('mariadb:'.length)}` }
    case 'pglite': {
      const rest = url.slice('pglite:'.length).replace(/^\/\//, '')
      if (rest === '' || rest === 'memory' || rest === ':memory:') return { dialect: 'pglite' }
      return { dialect: 'pglite', dataDir: decodeURIComponent(rest) }
    }
    case 'sqlite': {
      const rest = url.slice('sqlite:'.length).replace(/^\/\//, '')
      if (rest === '' || rest === 'memory' || rest === ':memory:')
        return { dialect: 'sqlite', path: ':memory:' }
      return { dialect: 'sqlite', path: decodeURIComponent(rest) }
    }
    case 'libsql':
      return { dialect: 'sqlite', url }
    case 'redis':
    case 'rediss':
      throw new SessionError(
        'E_OPTION',
        'drizzle',
        `${scheme}:// URLs name a Redis: use createStore of @sessile/redis (this createStore is for SQL databases)`,
      )
    default:
      throw new SessionError(
        'E_OPTION',
        'drizzle',
        `unknown database URL scheme ${JSON.stringify(scheme ?? url.slice(0, 20))}: use postgres://, postgresql://, mysql://, mariadb://, pglite://<dir>, pglite:memory, sqlite:<file>, sqlite::memory: or libsql://`,
      )
  }
}

// Each dialect's physical limits: table name bytes and the largest payload.
const LIMITS: Record<Dialect, { maxTableBytes: number; hardMaxBytes: number }> = {
  pg: { maxTableBytes: 63, hardMaxBytes: 1024 * 1024 * 1024 - 1 },
  pglite: { maxTableBytes: 63, hardMaxBytes: 1024 * 1024 * 1024 - 1 },
  mysql: { maxTableBytes: 64, hardMaxBytes: 1024 * 1024 * 1024 - 1 },
  sqlite: { maxTableBytes: 1024, hardMaxBytes: 1_000_000_000 },
}

/**
 * A store for whatever database the URL names. The driver module is imported on first use, so
 * only the driver you use needs to be installed.
 *
 * @example
 * import { createSessions } from '@sessile/core'
 * import { createStore } from '@sessile/drizzle'
 * const sessions = createSessions({ store: createStore(process.env.DATABASE_URL ?? 'sqlite:./data/sessions.db') })
 */
export function createStore(url: string, options: CreateStoreOptions = {}): SqlSessionStore {
  const parsed = parseStoreUrl(url)
  // Bad options fail here, at construction, not on the first request.
  resolveSqlOptions(parsed.dialect, options, LIMITS[parsed.dialect])
  return new UrlStore(parsed, options)
}

async function load(parsed: ParsedStoreUrl, options: CreateStoreOptions): Promise<SqlSessionStore> {
  switch (parsed.dialect) {
    case 'pg':
      return (await import('./pg.js')).pgStore({ ...options, url: parsed.url as string })
    case 'mysql':
      return (await import('./mysql.js')).mysqlStore({ ...options, url: parsed.url as string })
    case 'pglite':
      return (await import('./pglite.js')).pgliteStore({ ...options, dataDir: parsed.dataDir })
    case 'sqlite': {
      const { sqliteStore } = await import('./sqlite.js')
      return parsed.url === undefined
        ? sqliteStore({ ...options, path: parsed.path as string })
        : sqliteStore({ ...options, url: parsed.url })
    }
  }
}

/** Loads the dialect on first use; a failed load (driver missing) is retried on the next call. */
class UrlStore implements SqlSessionStore {
  readonly name: Dialect
  readonly table: string
  readonly #parsed: ParsedStoreUrl
  readonly #options: CreateStoreOptions
  #store: SqlSessionStore | undefined
  #loading: Promise<SqlSessionStore> | undefined
  #closed = false

  constructor(parsed: ParsedStoreUrl, options: CreateStoreOptions) {
    this.name = parsed.dialect
    this.table = options.table ?? 'sessions'
    this.#parsed = parsed
    this.#options = options
  }

  get maxDataBytes(): number {
    return this.#store?.maxDataBytes ?? this.#options.maxDataBytes ?? DEFAULT_MAX_DATA_BYTES
  }

  async #get(): Promise<SqlSessionStore> {
    if (this.#store) return this.#store
    if (this.#closed) throw new SessionError('E_STORE', this.name, 'the store is closed')
    this.#loading ??= load(this.#parsed, this.#options).then(
      (store) => {
        this.#store = store
        return store
      },
      (error: unknown) => {
        this.#loading = undefined
        throw storeError(this.name, 'load driver', error)
      },
    )
    return this.#loading
  }

  async ensureSchema(): Promise<void> {
    return (await this.#get()).ensureSchema()
  }
  async read(key: string): Promise<ReadResult | null> {
    return (await this.#get()).read(key)
  }
  async write(request: WriteRequest): Promise<WriteResult> {
    return (await this.#get()).write(request)
  }
  async touch(request: TouchRequest): Promise<boolean> {
    return (await this.#get()).touch(request)
  }
  async destroy(key: string, hint?: DestroyHint): Promise<SessionRef | null> {
    return (await this.#get()).destroy(key, hint)
  }
  async sweep(limit: number): Promise<SessionRef[]> {
    return (await this.#get()).sweep(limit)
  }
  async findByRef(ref: string): Promise<SessionInfo[]> {
    return (await this.#get()).findByRef(ref)
  }
  async destroyByRef(ref: string): Promise<SessionRef[]> {
    return (await this.#get()).destroyByRef(ref)
  }
  async count(): Promise<number> {
    return (await this.#get()).count()
  }
  async refs(limit: number): Promise<string[]> {
    return (await this.#get()).refs(limit)
  }
  async list(options: ListOptions): Promise<StoredSession[]> {
    return (await this.#get()).list(options)
  }
  async clear(): Promise<void> {
    return (await this.#get()).clear()
  }
  async now(): Promise<Date> {
    return (await this.#get()).now()
  }
  async lease(request: LeaseRequest): Promise<LeaseResult> {
    return (await this.#get()).lease(request)
  }
  async release(key: string, token: string): Promise<boolean> {
    return (await this.#get()).release(key, token)
  }
  async close(): Promise<void> {
    this.#closed = true
    const store = this.#store ?? (this.#loading ? await this.#loading.catch(() => undefined) : undefined)
    if (store) await store.close()
  }
}
