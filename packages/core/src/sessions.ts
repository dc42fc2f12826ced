import type { Listener, SessionEvents } from './events.js'
import type { ResolvedOptions } from './options.js'
import type { SessionData } from './serialize.js'
import type { Session } from './session.js'
import type { SessionInfo, SessionRef, SessionStore } from './store.js'

/** What a commit did, and what the adapter must do with the cookie. */
export interface CommitResult {
  /**
   * - `set`: send the cookie with `id` (a new session was stored, or the id was regenerated).
   * - `clear`: delete the cookie (destroyed, emptied, or the presented session no longer exists).
   * - `keep`: leave the cookie as it is.
   */
  cookie: 'set' | 'clear' | 'keep'
  /** The session id after the commit. */
  id: string
  /** The row's expiry (store clock) when a row exists after the commit. */
  expires: Date | null
  /** What reached the store. */
  write: 'none' | 'insert' | 'update' | 'touch' | 'destroy'
}

/** How an adapter may help a commit. */
export interface CommitOptions {
  /**
   * The adapter vouches that `session.data` still equals what was loaded (its framework compared
   * it already, as express-session does before calling `touch`), so the commit skips serialising
   * it and only moves the expiry (throttled by `touchShare`). Ignored for new, regenerated or
   * destroyed sessions. A wrong vouch loses the unsaved change, so only pass it with proof.
   * @default false
   */
  unchanged?: boolean
}

/** A live session as {@link Sessions.list} gives it: the row's metadata and its decoded data. */
export type ListedSession<T extends SessionData = SessionData> = SessionInfo & { data: T }

/** A page of {@link Sessions.list}. */
export interface SessionPage<T extends SessionData = SessionData> {
  sessions: ListedSession<T>[]
  /** Pass as `after` for the next page; undefined on the last one. */
  next: string | undefined
}

/** The framework-neutral session manager that every adapter drives. */
export interface Sessions<T extends SessionData = SessionData> {
  readonly store: SessionStore
  readonly options: Readonly<ResolvedOptions<T>>
  /**
   * The session for a cookie value. A missing, malformed, unknown, expired or undecodable id gives
   * a fresh session with a new id (strict mode); only a store failure throws (`E_STORE`).
   */
  load(id: string | null | undefined): Promise<Session<T>>
  /**
   * Save what changed; see {@link CommitResult}. In serialised mode this also gives the session's
   * lease back, whatever the outcome.
   */
  commit(session: Session<T>, options?: CommitOptions): Promise<CommitResult>
  /**
   * Serialised mode: give the lease back without saving (a request that failed or ends without
   * commit). A no-op for sessions that hold no lease, so adapters may call it unconditionally.
   */
  release(session: Session<T>): Promise<void>
  /** A new session, not stored until it holds data and is committed. */
  create(data?: T): Session<T>
  /** Delete the session with this id, if any. */
  destroy(id: string, reason?: 'destroy' | 'evict'): Promise<SessionRef | null>
  /** Live sessions of a ref, oldest first (a device list). Keys are storage keys. */
  findByRef(ref: string | number): Promise<SessionInfo[]>
  /** Delete every session of a ref ("log this user out everywhere"). */
  destroyByRef(
    ref: string | number,
    options?: { except?: string; reason?: 'ref' | 'evict' },
  ): Promise<SessionRef[]>
  /** The number of live sessions. */
  count(): Promise<number>
  /**
   * A page of live sessions with their data decoded, sorted by storage key: `limit` (default
   * 500) rows after the key `after`. Rows that cannot be decoded are left out. For admin tools and
   * express-session's `all()`, not request paths.
   */
  list(options?: { limit?: number; after?: string }): Promise<SessionPage<T>>
  /** Refs with at least one live session. */
  refs(limit?: number): Promise<string[]>
  /** The storage key of a session id (its HMAC when a secret is set). */
  keyOf(id: string): string
  /**
   * Every key the session of `id` may be stored under, newest secret first (one per configured
   * secret while secrets rotate); `[]` for an id of no accepted shape.
   */
  keysOf(id: string): string[]
  /** A fresh id in the manager's format (`ids`; by default `idBytes` CSPRNG bytes, base64url). */
  generateId(): string
  /** Whether a cookie value has the shape of an id this manager issues or accepts (`acceptIds`). */
  isWellFormedId(id: unknown): id is string
  on<K extends keyof SessionEvents>(name: K, listener: Listener<SessionEvents[K]>): () => void
  /** @internal Emit an event on this manager (used by `@sessile/notify`). */
  emit<K extends keyof SessionEvents>(name: K, event: SessionEvents[K]): Promise<void>
}
