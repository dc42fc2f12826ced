import { createHash, randomUUID } from 'node:crypto'
import {
  decodeEnvelope,
  deserialize,
  type Session,
  type SessionData,
  SessionError,
  type Sessions,
} from '@sessile/core'
import expressSession from 'express-session'
import { Pending } from './_internal/pending.js'

const SOURCE = 'express'

/**
 * The field `get` adds to the session it hands to express-session. express-session copies every
 * enumerable field of that object onto `req.session` and passes `req.session` back to `set`, so
 * this field is how `set` finds the version this request read, which the manager needs to merge
 * concurrent changes. `set` strips it; it is never stored.
 */
export const PENDING_FIELD = '__sessile'

/** Options of {@link expressStore}. */
export interface ExpressStoreOptions {
  /**
   * How many loaded sessions are remembered at once between `get` and `set` (for merging
   * concurrent changes). Beyond it the oldest is forgotten and its request saves without a merge
   * base (last write wins for that one request).
   * @default 10000
   */
  pendingLimit?: number
  /**
   * How long, in ms, a loaded session is remembered between `get` and `set`.
   * @default 600000 (10 minutes)
   */
  pendingTtl?: number
}

type Callback<R> = ((err: unknown, result?: R) => void) | undefined

/** The session object express-session hands to `set`/`touch` (its `Session`, or plain JSON). */
type ExpressSessionData = expressSession.SessionData

interface Parts {
  token: string | null
  data: SessionData
  cookie: Record<string, unknown>
}

function run<R>(cb: Callback<R>, work: () => Promise<R>): void {
  work().then(
    (result) => cb?.(null, result),
    (error: unknown) => cb?.(error),
  )
}

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v)

/**
 * Split what express-session passes to `set` into the pending token, the cookie settings and the
 * application's fields, without copying the fields' values: the manager serialises them once, at
 * commit (a JSON round trip here first cost a third of the adapter's time on a changing request).
 * What gets stored is the same: the manager's JSON turns Dates into strings and drops undefined.
 */
function split(sess: unknown): Parts {
  if (!isObject(sess)) throw new SessionError('E_SERIALIZE', SOURCE, 'session must be a plain object')
  const data: SessionData = {}
  let token: string | null = null
  let cookie: Record<string, unknown> = {}
  for (const name of Object.keys(sess)) {
    const value = sess[name]
    if (name === PENDING_FIELD) token = typeof value === 'string' ? value : null
    else if (name === 'cookie') cookie = cookieSettings(value)
    else if (value !== undefined && typeof value !== 'function') {
      // A plain assignment of "__proto__" would set the prototype instead of a field.
      if (name === '__proto__')
        Object.defineProperty(data, name, { value, enumerable: true, writable: true, configurable: true })
      else data[name] = value
    }
  }
  return { token, data, cookie }
}

/**
 * express-session's Cookie as JSON, without `expires`: it moves on every request, and storing it
 * would make every session look changed. (Left out rather than deleted: `delete` turns the object
 * into a slow dictionary.)
 */
function cookieSettings(value: unknown): Record<string, unknown> {
  if (!isObject(value)) return {}
  const json = typeof value.toJSON === 'function' ? (value.toJSON as () => unknown)() : value
  const out: Record<string, unknown> = {}
  if (!isObject(json)) return out
  for (const name of Object.keys(json)) {
    const v = json[name]
    if (name !== 'expires' && name !== '__proto__' && v !== undefined) out[name] = v
  }
  return out
}

const MAX_TTL = 10 * 365 * 86_400_000

/**
 * Where `set` leaves the session it just wrote, on the object express-session passed (its
 * `req.session`), for the call express-session makes on that same object at the end of the
 * request: the `touch` after an explicit `req.session.save()`, or the second save of a
 * regenerated session. A non-enumerable symbol: express-session's hash, JSON and copies skip it,
 * and it lives exactly as long as the request's session object. (A map of every saved session
 * kept two seconds instead cost about 8 µs of garbage collection per changing request at
 * 3,500 requests/s: its entries outlived the young generation.)
 */
const KEPT = Symbol('sessile.kept')

function keep(sess: object, session: Session): void {
  if (Object.isExtensible(sess))
    Object.defineProperty(sess, KEPT, { value: session, writable: true, configurable: true })
}

/** The session `set` kept on this object for `sid`, once. */
function kept(sess: object, sid: string): Session | undefined {
  const slot = sess as { [KEPT]?: Session | undefined }
  const session = slot[KEPT]
  if (session?.id !== sid) return undefined
  slot[KEPT] = undefined
  return session
}

// A token names the id it was issued for (by digest, so a session serialised to a page does not
// reveal its id): apps copy old fields, token included, onto the new session at regenerate.
const digest = (sid: string): string => createHash('sha256').update(sid).digest('base64url').slice(0, 16)
// randomUUID draws from a buffered pool: a tenth of the cost of randomBytes per request.
const tokenFor = (sid: string): string => `${randomUUID()}.${digest(sid)}`
const belongsTo = (token: string | null, sid: string): token is string =>
  token?.endsWith(`.${digest(sid)}`) === true

/**
 * express-session's `cookie.maxAge` is the session's lifetime there, so it becomes the row's idle
 * lifetime here; a browser-session cookie (no maxAge) uses the manager's `idleTimeout`.
 */
function ttlOf(cookie: Record<string, unknown>, idle: number): number {
  const m = cookie.originalMaxAge
  return typeof m === 'number' && Number.isFinite(m) && m >= 1 ? Math.min(Math.round(m), MAX_TTL) : idle
}

/**
 * An `express-session` store on the Sessile manager. Create it with {@link expressStore}.
 *
 * Stored rows hold the application's fields plus express-session's cookie settings under `cookie`
 * (without the per-request `expires`), so read-only requests compare equal and are not rewritten.
 */
export class SessileExpressStore extends expressSession.Store {
  readonly sessions: Sessions
  readonly #pending: Pending<Session>

  /**
   * express-session's `genid` option: ids from the manager's CSPRNG in the manager's shape.
   * Without it express-session makes 24-byte ids, which a manager with the default `idBytes`
   * (32) refuses.
   */
  readonly genid = (): string => this.sessions.generateId()

  constructor(sessions: Sessions, options: ExpressStoreOptions = {}) {
    super()
    if (typeof sessions !== 'object' || sessions === null || typeof sessions.load !== 'function') {
      throw new SessionError('E_OPTION', SOURCE, 'expressStore needs the manager made by createSessions()')
    }
    const limit = options.pendingLimit ?? 10_000
    const ttl = options.pendingTtl ?? 600_000
    if (!Number.isInteger(limit) || limit < 0)
      throw new SessionError(
        'E_OPTION',
        SOURCE,
        'pendingLimit must be a whole number of sessions (0 or more)',
      )
    if (!Number.isInteger(ttl) || ttl < 1)
      throw new SessionError('E_OPTION', SOURCE, 'pendingTtl must be a whole number of ms (1 or more)')
    if (sessions.options.serialize && limit === 0)
      throw new SessionError(
        'E_OPTION',
        SOURCE,
        'pendingLimit 0 cannot be used with serialize: the lease taken in get() must reach set()',
      )
    this.sessions = sessions
    // A forgotten session gives its lease back (serialised mode), so it cannot block its own key.
    this.#pending = new Pending(limit, ttl, (session) => {
      sessions.release(session).catch(() => {})
    })
  }

  /**
   * The session `get(sid)` loaded under this token, if still remembered, else the one `set`
   * kept on this very object. A token is issued for a session of that id, so finding it with
   * `sid` proves it belongs to `sid` without hashing again.
   */
  #remembered(token: string | null, sid: string, sess: object): Session | undefined {
    if (token) {
      const loaded = this.#pending.get(token)
      if (loaded?.id === sid) {
        this.#pending.take(token)
        return loaded
      }
    }
    return kept(sess, sid)
  }

  /** How many loaded sessions are remembered for merging right now. */
  get pendingCount(): number {
    return this.#pending.size
  }

  override get(sid: string, callback: Callback<ExpressSessionData | null>): void {
    run(callback, async () => {
      // Unknown, expired, malformed and undecodable ids all read as "no session": express-session
      // then generates a new id with `genid`, so a presented id is never adopted.
      if (!this.sessions.isWellFormedId(sid)) return null
      const session = await this.sessions.load(sid)
      if (session.isNew) return null
      const token = tokenFor(sid)
      if (this.#pending.limit > 0) this.#pending.put(token, session)
      // session.data was parsed from the row for this call alone, so its fields are handed out
      // without a copy: `set` replaces session.data with what express-session passes back, and
      // `touch` runs only when express-session found that unchanged.
      // (Object.assign and plain assignments: a literal with spreads and a computed key took
      // several times as long.)
      const out: Record<string, unknown> = Object.assign({}, session.data)
      const settings = isObject(out.cookie) ? out.cookie : {}
      const hasMaxAge = typeof settings.originalMaxAge === 'number'
      const cookie: Record<string, unknown> = Object.assign({}, settings)
      cookie.expires = hasMaxAge ? (session.expires?.toISOString() ?? null) : null
      out.cookie = cookie
      out[PENDING_FIELD] = token
      return out as unknown as ExpressSessionData
    })
  }

  override set(sid: string, sess: ExpressSessionData, callback?: Callback<void>): void {
    run(callback, async () => {
      const parts = split(sess)
      const { data, cookie } = parts
      // Taken, not left behind: a request whose save ends it (express-session's own save at
      // res.end) never comes back for it.
      let session = this.#remembered(parts.token, sid, sess)
      const token = session || belongsTo(parts.token, sid) ? parts.token : null
      const empty = Object.keys(data).length === 0
      if (!session && token) {
        // Loaded by this request but no longer remembered: save against the current row.
        session = await this.sessions.load(sid)
        // The row went away meanwhile (logout elsewhere, expiry): never bring it back.
        if (session.isNew) return
      }
      if (!session) {
        // A new session (express-session's generate or regenerate). Strict mode: an empty one
        // is never stored, and ids must have the shape the manager issues.
        if (empty) return
        if (!this.sessions.isWellFormedId(sid)) {
          throw new SessionError(
            'E_INVALID',
            SOURCE,
            `session id of ${String(sid).length} characters is not one this manager issues; ` +
              'pass `genid: store.genid` to express-session (or createSessions({ idBytes: 24 }) for its default ids)',
          )
        }
        session = this.sessions.create()
        // The manager names new sessions itself; express-session already chose this id.
        session.id = sid
      }
      if (!empty) data.cookie = cookie
      session.data = data
      session.ttl = ttlOf(cookie, this.sessions.options.idle)
      const result = await this.sessions.commit(session)
      if (result.id !== sid && result.write === 'insert') {
        // The id was taken (a collision the manager resolved by renaming); express-session will
        // send `sid`, so the renamed row would be unreachable.
        await this.sessions.destroy(result.id)
        throw new SessionError('E_CONFLICT', SOURCE, 'a session with this id already exists')
      }
      // express-session saves a regenerated session once more when the response ends (it tracks
      // explicit saves only of sessions it loaded or generated itself): that save then updates
      // the new row (usually writing nothing) instead of inserting the same id again. After an
      // explicit save of a loaded session, the touch that ends the request needs no read.
      if (this.#pending.limit > 0 && (result.write === 'insert' || (token && result.cookie === 'keep'))) {
        // Kept without its data: a touch commits it as unchanged (from the saved bytes) and a
        // second save brings the data again.
        session.data = {}
        keep(sess, session)
      }
    })
  }

  override touch(sid: string, sess: ExpressSessionData, callback?: Callback<void>): void {
    run(callback, async () => {
      // Only the token and the cookie's lifetime matter here: no JSON copy of the whole session.
      const fields: Record<string, unknown> = isObject(sess) ? sess : {}
      const raw = fields[PENDING_FIELD]
      const cookie = isObject(fields.cookie) ? fields.cookie : {}
      let session = this.#remembered(typeof raw === 'string' ? raw : null, sid, fields)
      if (!session) {
        session = await this.sessions.load(sid)
        if (session.isNew) return
      }
      session.ttl = ttlOf(cookie, this.sessions.options.idle)
      // express-session calls touch only after its own hash found the session unchanged since
      // get (or since an explicit save), so the manager need not serialise it again to compare:
      // it moves the expiry only, when the throttle allows.
      await this.sessions.commit(session, { unchanged: true })
    })
  }

  override destroy(sid: string, callback?: Callback<void>): void {
    run(callback, async () => {
      await this.sessions.destroy(sid)
    })
  }

  /**
   * Every live session, keyed by storage key (the session id, or its HMAC when the manager has a
   * `secret`). Reads the whole table in pages; meant for admin tools, not request paths.
   */
  override all(callback: Callback<Record<string, ExpressSessionData>>): void {
    run(callback, async () => {
      const { store, options } = this.sessions
      const out: Record<string, ExpressSessionData> = {}
      let after: string | undefined
      for (;;) {
        const rows = await store.list({ limit: 500, after })
        for (const row of rows) {
          try {
            const { plaintext } = await decodeEnvelope(
              row.data,
              row.key,
              options.decoders,
              options.filters,
              options.maxSize,
            )
            const data = deserialize(plaintext)
            out[row.key] = { cookie: {}, ...data } as unknown as ExpressSessionData
          } catch {
            // An undecodable row is no session, as on load.
          }
        }
        if (rows.length < 500) return out
        after = rows[rows.length - 1]?.key
      }
    })
  }

  override length(callback: Callback<number>): void {
    run(callback, () => this.sessions.count())
  }

  override clear(callback?: Callback<void>): void {
    run(callback, () => this.sessions.store.clear())
  }
}

/**
 * A drop-in store for `express-session`: change the `store` line, keep the rest.
 *
 * Unchanged sessions are not rewritten, expiry moves are throttled by the manager's `touchShare`,
 * empty sessions are never stored, and two concurrent requests that change different fields
 * both persist.
 *
 * @example
 * const store = expressStore(sessions)
 * app.use(session({ store, genid: store.genid, secret, resave: false, saveUninitialized: false }))
 */
export function expressStore(sessions: Sessions, options?: ExpressStoreOptions): SessileExpressStore {
  return new SessileExpressStore(sessions, options)
}
