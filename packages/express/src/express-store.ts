import { type Session, type SessionData, SessionError, type Sessions } from '@sessile/core'
import expressSession from 'express-session'

const SOURCE = 'express'

/**
 * The manager's session a request loaded, kept beside express-session's object rather than in it:
 * express-session copies `get`'s object onto `req.session` (through `createSession`) and hands
 * `req.session` back to `set` and `touch`, so a map keyed by those objects finds the session this
 * request loaded (and the version it read, the merge base) without a lookup. Nothing travels in
 * the session's fields, so app data (`Object.assign(req.session, req.body)`) cannot forge or
 * overwrite it, and nothing of it is stored.
 */
class Handles {
  readonly #map = new WeakMap<object, Session>()
  set(sess: unknown, session: Session): void {
    if (isObject(sess)) this.#map.set(sess, session)
  }
  /**
   * The session for `sid`: apps copy old fields onto the new session at regenerate, and a
   * handle must not answer for another id than the one it was loaded under.
   */
  of(sess: unknown, sid: string): Session | undefined {
    const session = isObject(sess) ? this.#map.get(sess) : undefined
    return session?.id === sid ? session : undefined
  }
  /** The handle of `from` (get's object), carried to `to` (express-session's copy of it). */
  carry(from: unknown, to: unknown): void {
    const session = isObject(from) ? this.#map.get(from) : undefined
    if (session) this.set(to, session)
  }
}

type Callback<R> = ((err: unknown, result?: R) => void) | undefined

/** The session object express-session hands to `set`/`touch` (its `Session`, or plain JSON). */
type ExpressSessionData = expressSession.SessionData

interface Parts {
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
 * Split what express-session passes to `set` into the cookie settings and the
 * application's fields, without copying the fields' values: the manager serialises them once, at
 * commit (a JSON round trip here first cost a third of the adapter's time on a changing request).
 * What gets stored is the same: the manager's JSON turns Dates into strings and drops undefined.
 */
function split(sess: unknown): Parts {
  if (!isObject(sess)) throw new SessionError('E_SERIALIZE', SOURCE, 'session must be a plain object')
  const data: SessionData = {}
  let cookie: Record<string, unknown> = {}
  for (const name of Object.keys(sess)) {
    const value = sess[name]
    if (name === 'cookie') cookie = cookieSettings(value)
    else if (value !== undefined && typeof value !== 'function') {
      // A plain assignment of "__proto__" would set the prototype instead of a field.
      if (name === '__proto__')
        Object.defineProperty(data, name, { value, enumerable: true, writable: true, configurable: true })
      else data[name] = value
    }
  }
  return { data, cookie }
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
 * express-session's `cookie.maxAge` is the session's lifetime there, so it becomes the row's idle
 * lifetime here; a browser-session cookie (no maxAge) uses the manager's `idleTimeout`.
 */
function ttlOf(cookie: Record<string, unknown>, idle: number): number {
  const m = cookie.originalMaxAge
  return typeof m === 'number' && Number.isFinite(m) && m >= 1 ? Math.min(Math.round(m), MAX_TTL) : idle
}

/**
 * A loaded session as express-session wants it from `get`: the stored fields and the cookie
 * settings with the row's expiry as `expires`. session.data was parsed from the row for
 * this call alone, so its fields are handed out without a copy: `set` replaces session.data with
 * what express-session passes back, and `touch` runs only when express-session found that
 * unchanged. (Plain assignments: a literal with spreads and a computed key took several times
 * as long.)
 */
function toExpress(session: Session): ExpressSessionData {
  const out: Record<string, unknown> = Object.assign({}, session.data)
  const settings = isObject(out.cookie) ? out.cookie : {}
  const cookie: Record<string, unknown> = Object.assign({}, settings)
  cookie.expires =
    typeof settings.originalMaxAge === 'number' ? (session.expires?.toISOString() ?? null) : null
  out.cookie = cookie
  return out as unknown as ExpressSessionData
}

/**
 * An `express-session` store on the Sessile manager. Create it with {@link expressStore}.
 *
 * Stored rows hold the application's fields plus express-session's cookie settings under `cookie`
 * (without the per-request `expires`), so read-only requests compare equal and are not rewritten.
 */
export class SessileExpressStore extends expressSession.Store {
  readonly sessions: Sessions
  readonly #handles = new Handles()

  /**
   * express-session's `genid` option: ids from the manager's CSPRNG in the manager's shape
   * (256 bits by default). express-session's own 24-byte ids are accepted too; this is stronger.
   */
  readonly genid = (): string => this.sessions.generateId()

  constructor(sessions: Sessions) {
    super()
    if (typeof sessions !== 'object' || sessions === null || typeof sessions.load !== 'function') {
      throw new SessionError('E_OPTION', SOURCE, 'expressStore needs the manager made by createSessions()')
    }
    this.sessions = sessions
  }

  override get(sid: string, callback: Callback<ExpressSessionData | null>): void {
    // Unknown, expired, malformed and undecodable ids all read as "no session": express-session
    // then generates a new id with `genid`, so a presented id is never adopted.
    if (!this.sessions.isWellFormedId(sid)) {
      callback?.(null, null)
      return
    }
    this.sessions.load(sid).then(
      (session) => {
        if (session.isNew) return callback?.(null, null)
        const out = toExpress(session)
        this.#handles.set(out, session)
        callback?.(null, out)
      },
      (error: unknown) => callback?.(error),
    )
  }

  /** express-session's copy of `get`'s object becomes `req.session`: the handle goes with it. */
  override createSession(
    req: Parameters<expressSession.Store['createSession']>[0],
    sess: ExpressSessionData,
  ): ReturnType<expressSession.Store['createSession']> {
    const created = super.createSession(req, sess)
    this.#handles.carry(sess, created)
    return created
  }

  override set(sid: string, sess: ExpressSessionData, callback?: Callback<void>): void {
    run(callback, async () => {
      const { data, cookie } = split(sess)
      // The session this request loaded, or one an earlier save of this object stored.
      let session = this.#handles.of(sess, sid)
      const empty = Object.keys(data).length === 0
      if (!session) {
        // A new session (express-session's generate or regenerate). Strict mode: an empty one
        // is never stored, and ids must have the shape the manager issues.
        if (empty) return
        if (!this.sessions.isWellFormedId(sid)) {
          throw new SessionError(
            'E_INVALID',
            SOURCE,
            `session id of ${String(sid).length} characters is not one this manager issues or accepts ` +
              "(express-session's default ids, UUIDv4, or `genid: store.genid`)",
          )
        }
        // express-session documents `set` as an upsert, and admin code or other middleware may
        // call it directly on a stored id: that updates the row. A request that loaded its session
        // carries the handle instead, so a session destroyed meanwhile is never brought back.
        const stored = await this.sessions.load(sid)
        if (stored.isNew) {
          session = this.sessions.create()
          // The manager names new sessions itself; express-session already chose this id.
          session.id = sid
        } else session = stored
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
      // explicit saves only of sessions it loaded or generated itself): with a handle for its
      // object, that save updates the new row (usually writing nothing) instead of inserting the
      // same id again.
      if (result.write === 'insert') this.#handles.set(sess, session)
    })
  }

  override touch(sid: string, sess: ExpressSessionData, callback?: Callback<void>): void {
    run(callback, async () => {
      // Only the handle and the cookie's lifetime matter here: no JSON copy of the whole session.
      let session = this.#handles.of(sess, sid)
      if (!session) {
        session = await this.sessions.load(sid)
        if (session.isNew) return
      }
      const fields: Record<string, unknown> = isObject(sess) ? sess : {}
      session.ttl = ttlOf(isObject(fields.cookie) ? fields.cookie : {}, this.sessions.options.idle)
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
      const out: Record<string, ExpressSessionData> = {}
      let after: string | undefined
      for (;;) {
        const page = await this.sessions.list({ limit: 500, after })
        for (const s of page.sessions) out[s.key] = { cookie: {}, ...s.data } as unknown as ExpressSessionData
        if (page.next === undefined) return out
        after = page.next
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
export function expressStore(sessions: Sessions): SessileExpressStore {
  return new SessileExpressStore(sessions)
}
