import type { SessionData } from './serialize.js'

/** What the manager knows about the stored row a session was loaded from. */
export interface LoadedState {
  /** Storage key of the row. */
  key: string
  /** The serialised data as loaded, for byte comparison at commit. */
  plain: Uint8Array
  version: number
  ref: string | null
  created: Date
  expiry: Date
  /** The store's clock at the read, and our monotonic clock at the same moment. */
  storeNow: Date
  readAt: number
  /** Whether the payload was written with today's filter list and keys. */
  current: boolean
}

/** @internal Fields the manager reads and writes; not part of the public surface. */
export const kState: unique symbol = Symbol('sessile.session.state')

/** The row lease a serialised-mode session holds until commit or release. */
export interface HeldLease {
  key: string
  token: string
  /** Ends this process's turn for the key (the in-process queue). */
  end: () => void
  /** Another request held the turn or the lease first: the session is contended. */
  waited: boolean
  /** When (performance.now()) the store lease was taken: a hand-off keeps it for half its life. */
  takenAt: number
  /**
   * A moment (performance.now()) at or after which the loaded state was the row's state: a
   * request that was already waiting then may be handed that state instead of reading the row.
   */
  validAt: number
}

export interface SessionInternals {
  loaded: LoadedState | null
  /** Serialised mode, or a hot session: the lease taken at load, given back at commit or release. */
  lease?: HeldLease | null
  presented: boolean
  destroyed: boolean
  regenerate: boolean
  touch: boolean
}

/**
 * One request's view of a session. Change `data` (or use `get`/`set`/`delete`) freely; nothing
 * reaches the store until `sessions.commit(session)`, and only if the serialised bytes changed.
 */
export class Session<T extends SessionData = SessionData> {
  /** The id the client holds in its cookie. It changes when `regenerate()` is committed. */
  id: string
  /** The session's data: a plain JSON object. */
  data: T
  /** Idle lifetime of this session in ms (defaults to the manager's `idleTimeout`). */
  ttl: number
  /** @internal */
  readonly [kState]: SessionInternals

  constructor(id: string, data: T, ttl: number, internals: SessionInternals) {
    this.id = id
    this.data = data
    this.ttl = ttl
    this[kState] = internals
  }

  /** True when no stored row backs this session yet. */
  get isNew(): boolean {
    return this[kState].loaded === null
  }

  /** When the stored row expires (store clock), or null for a new session. */
  get expires(): Date | null {
    return this[kState].loaded?.expiry ?? null
  }

  /** When the stored row was created, or null for a new session. */
  get created(): Date | null {
    return this[kState].loaded?.created ?? null
  }

  get<K extends keyof T & string>(name: K): T[K] | undefined {
    return Object.hasOwn(this.data, name) ? this.data[name] : undefined
  }

  set<K extends keyof T & string>(name: K, value: T[K]): this {
    if (name === '__proto__') return this
    this.data[name] = value
    return this
  }

  delete(name: keyof T & string): this {
    delete this.data[name]
    return this
  }

  /** Remove every field; at commit the row is deleted and the cookie cleared. */
  clear(): this {
    this.data = {} as T
    return this
  }

  /** Issue a new id at commit (call it at login); the old id stops working in the same commit. */
  regenerate(): this {
    this[kState].regenerate = true
    return this
  }

  /** Delete the session at commit (logout). */
  destroy(): this {
    this[kState].destroyed = true
    return this
  }

  /** Move the expiry at commit even if the touch throttle would skip it. */
  touch(): this {
    this[kState].touch = true
    return this
  }

  /** Whether `destroy()` was called. */
  get isDestroyed(): boolean {
    return this[kState].destroyed
  }
}
