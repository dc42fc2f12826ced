import { type Session, type SessionData, SessionError, type Sessions } from '@sessile/core'

const SOURCE = 'koa'

/** Fields koa-session keeps in the session object for itself. */
const EXPIRE = '_expire'
const OWN_FIELDS = new Set(['_expire', '_maxAge', '_session'])
const MAX_TTL = 10 * 365 * 86_400_000

/** The third argument koa-session passes to `get`. */
export interface KoaStoreGetOptions {
  rolling?: boolean
  ctx?: object
}

/** The fourth argument koa-session passes to `set`. */
export interface KoaStoreSetOptions {
  rolling?: boolean
  changed?: boolean
  ctx?: object
}

/** A koa-session external store (`opts.store`) plus the `genid` koa-session should use. */
export interface KoaStore {
  /** The session data for a cookie value, or null (koa-session then starts a fresh session). */
  get(
    key: string,
    maxAge: number | 'session' | undefined,
    options?: KoaStoreGetOptions,
  ): Promise<SessionData | null>
  /** Save the session under `key`. */
  set(
    key: string,
    sess: SessionData,
    maxAge: number | 'session' | undefined,
    options?: KoaStoreSetOptions,
  ): Promise<void>
  /** Delete the session under `key`. */
  destroy(key: string, options?: { ctx?: object }): Promise<void>
  /**
   * koa-session's `genid` option (optional): 256-bit ids from the manager's CSPRNG. koa-session's
   * own UUIDv4 keys are accepted too; this is stronger.
   */
  genid(): string
  /** The manager behind this store. */
  readonly sessions: Sessions
}

/**
 * A shallow copy of koa-session's object: the manager serialises it once, at commit (and refuses
 * what JSON cannot hold with `E_SERIALIZE`), so no JSON round trip here, as in the Express store.
 */
function plain(value: unknown): SessionData {
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw new SessionError('E_SERIALIZE', SOURCE, 'session must be a plain object')
  return Object.assign({}, value) as SessionData
}

/**
 * A `koa-session` external store on the Sessile manager.
 *
 * koa-session's `maxAge` (in the session as `_maxAge`) becomes the row's idle lifetime; with
 * `maxAge: 'session'` the manager's `idleTimeout` applies. `_expire` is derived from the row on
 * every read and never stored, so an unchanged session is not rewritten. `rolling` moves the
 * expiry through the manager's touch throttle (at most one write per `touchShare` of the
 * session's lifetime); `renew` moves it at once. Each request's loaded version is remembered per
 * `ctx`, so two concurrent requests that change different fields both persist.
 *
 * @example
 * const store = koaStore(sessions)
 * app.use(session({ store, genid: store.genid, maxAge: 30 * 60_000 }, app))
 */
export function koaStore(sessions: Sessions): KoaStore {
  if (typeof sessions !== 'object' || sessions === null || typeof sessions.load !== 'function') {
    throw new SessionError('E_OPTION', SOURCE, 'koaStore needs the manager made by createSessions()')
  }
  // What each request loaded: the merge base the manager needs when another request saved first.
  const loaded = new WeakMap<object, Session>()
  const idle = sessions.options.idle

  const ttlOf = (data: SessionData): number => {
    const m = data._maxAge
    return typeof m === 'number' && Number.isFinite(m) && m >= 1 ? Math.min(Math.round(m), MAX_TTL) : idle
  }

  return {
    sessions,
    genid: () => sessions.generateId(),

    async get(key, _maxAge, options = {}) {
      // koa-session treats null as "no session" and makes a new key with genid: never adopted.
      if (!sessions.isWellFormedId(key)) return null
      const session = await sessions.load(key)
      if (session.isNew) return null
      if (options.ctx) {
        loaded.set(options.ctx, session)
        // koa-session calls `set` only for changed sessions; in serialised mode the lease of an
        // unchanged (or failed) request is given back when its response ends. A no-op otherwise.
        const res = (options.ctx as { res?: { once?: (event: string, fn: () => void) => unknown } }).res
        res?.once?.('close', () => {
          sessions.release(session).catch(() => {})
        })
      }
      const data = plain(session.data)
      data[EXPIRE] = session.expires?.getTime() ?? Date.now()
      return data
    },

    async set(key, sess, _maxAge, options = {}) {
      const data = plain(sess)
      delete data[EXPIRE]
      const empty = Object.keys(data).every((k) => OWN_FIELDS.has(k))
      const ctx = options.ctx
      let session = ctx ? loaded.get(ctx) : undefined
      if (session && session.id !== key) session = undefined
      if (!session) {
        if (!sessions.isWellFormedId(key)) {
          throw new SessionError(
            'E_INVALID',
            SOURCE,
            `session key of ${String(key).length} characters is not one this manager issues or accepts ` +
              "(koa-session's default UUIDv4, or `genid: store.genid`)",
          )
        }
        // With a ctx and nothing remembered for it, the key is new (genid, or a regenerate after
        // the old row was destroyed); without a ctx, save against whatever the store holds now.
        session = ctx ? sessions.create() : await sessions.load(key)
        if (session.isNew) {
          if (empty) return
          // koa-session chose this key with our genid; the manager would otherwise name it anew.
          session.id = key
        }
      }
      session.data = empty ? {} : data
      session.ttl = ttlOf(data)
      // Saved without a change and without `rolling`: koa-session's `renew` (or an explicit save)
      // asked for the expiry to move, so skip the throttle.
      if (options.changed === false && options.rolling !== true) session.touch()
      const result = await sessions.commit(session)
      if (result.write === 'insert' && result.id !== key) {
        await sessions.destroy(result.id)
        throw new SessionError('E_CONFLICT', SOURCE, 'a session with this key already exists')
      }
      if (ctx) {
        if (result.cookie === 'clear') loaded.delete(ctx)
        else loaded.set(ctx, session)
      }
    },

    async destroy(key, options = {}) {
      if (options.ctx) loaded.delete(options.ctx)
      await sessions.destroy(key)
    },
  }
}
