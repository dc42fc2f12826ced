import {
  isSessionError,
  readCookie,
  type Session,
  type SessionData,
  SessionError,
  type Sessions,
} from '@sessile/core'
import type { Context, MiddlewareHandler } from 'hono'
import { generateCookie } from 'hono/cookie'
import type { CookieOptions } from 'hono/utils/cookie'
import { forwardedProto, isHttps } from './_internal/cookie.js'

const SOURCE = 'hono'

/**
 * The context variables `honoSession` provides; pass it to `new Hono<SessionEnv>()` so
 * `c.get('session')` is typed.
 */
export type SessionEnv<T extends SessionData = SessionData> = {
  Variables: {
    /** This request's session: `get`/`set`/`delete`/`regenerate`/`destroy`/`touch`. */
    session: Session<T>
    /** The manager, for device lists and "log out other devices". */
    sessions: Sessions<T>
  }
}

/** Options of {@link honoSession}. */
export interface HonoSessionOptions {
  /**
   * Cookie name. The default carries the strongest prefix the cookie qualifies for.
   * @default '__Host-sid' when the cookie is Secure, else 'sid'
   */
  cookieName?: string
  /**
   * `'auto'` sends `Secure` (and the `__Host-` prefix) exactly when the request reached the app
   * over HTTPS: the request URL's own scheme (the connection's, on Node), or with `trustProxy` the
   * scheme the proxy reports. Never the Host header, which any client or proxy may set. Behind a
   * TLS-terminating proxy, set `trustProxy: true` or `secure: true`.
   * @default 'auto'
   */
  secure?: boolean | 'auto'
  /**
   * Trust the first `X-Forwarded-Proto` value for `secure: 'auto'`. Only set it when every request
   * comes through a proxy that sets (or overwrites) that header; a client could send it otherwise.
   * @default false
   */
  trustProxy?: boolean
  /**
   * The cookie's `SameSite` attribute.
   * @default 'Lax'
   */
  sameSite?: 'Lax' | 'Strict' | 'None'
  /**
   * The cookie's `Path`. Anything but `/` (or a `domain`) rules out the `__Host-` prefix, and the
   * default name becomes `__Secure-sid`.
   * @default '/'
   */
  path?: string
  /**
   * The cookie's `Domain`. Leave it unset so the cookie is host-only.
   * @default undefined
   */
  domain?: string
  /**
   * Give the cookie an `Expires` equal to the row's expiry (sent again whenever the expiry moves).
   * By default the cookie lives until the browser closes, and the store alone decides expiry.
   * @default false
   */
  persistent?: boolean
  /**
   * Save session changes made while handling a request that ended in an error or a 5xx response.
   * Off by default, so a failed request cannot leave half of its changes behind.
   * @default false
   */
  saveOnError?: boolean
  /**
   * The response when the session cannot be loaded or saved (store down: `E_STORE`, 503; data too
   * large: `E_TOO_LARGE`, 413). Errors that are not `SessionError` are rethrown to Hono's `onError`.
   * @default a plain-text response with the error's statusCode
   */
  onError?: (error: SessionError, c: Context) => Response | Promise<Response>
}

const MAX_COOKIE_MS = 399 * 86_400_000
const NAME = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/

function option(message: string): never {
  throw new SessionError('E_OPTION', SOURCE, message)
}

function checkOptions(o: HonoSessionOptions): void {
  if (typeof o !== 'object' || o === null) option('options must be an object')
  if (o.cookieName !== undefined && (typeof o.cookieName !== 'string' || !NAME.test(o.cookieName)))
    option("cookieName must be a non-empty cookie token (letters, digits and !#$%&'*+-.^_`|~)")
  if (o.secure !== undefined && o.secure !== 'auto' && typeof o.secure !== 'boolean')
    option("secure must be true, false or 'auto'")
  if (o.sameSite !== undefined && !['Lax', 'Strict', 'None'].includes(o.sameSite))
    option("sameSite must be 'Lax', 'Strict' or 'None'")
  if (o.path !== undefined && (typeof o.path !== 'string' || !o.path.startsWith('/')))
    option("path must be a string starting with '/'")
  if (o.domain !== undefined && (typeof o.domain !== 'string' || !/^[^;\r\n\s]+$/.test(o.domain)))
    option('domain must be a non-empty host name')
  if (o.path !== undefined && /[;\r\n]/.test(o.path)) option('path must not contain ";" or line breaks')
  if (o.onError !== undefined && typeof o.onError !== 'function') option('onError must be a function')
  if (o.trustProxy !== undefined && typeof o.trustProxy !== 'boolean')
    option('trustProxy must be true or false')
}

const defaultOnError = (error: SessionError, c: Context): Response =>
  c.text(
    error.code === 'E_STORE' ? 'Service Unavailable: the session store cannot be reached' : error.message,
    error.statusCode as 413,
  )

/**
 * Session middleware for Hono on the Sessile manager. `c.get('session')` is loaded before your
 * handler runs and saved after it: unchanged sessions are not rewritten, expiry moves are
 * throttled, and the cookie is set, kept or cleared as the commit decides.
 *
 * @example
 * const app = new Hono<SessionEnv>()
 * app.use(honoSession(sessions))
 * app.get('/', (c) => {
 *   const session = c.get('session')
 *   session.set('views', ((session.get('views') as number) ?? 0) + 1)
 *   return c.text(`views: ${session.get('views')}`)
 * })
 */
export function honoSession<T extends SessionData = SessionData>(
  sessions: Sessions<T>,
  options: HonoSessionOptions = {},
): MiddlewareHandler<SessionEnv<T>> {
  checkOptions(options)
  if (typeof sessions !== 'object' || sessions === null || typeof sessions.load !== 'function')
    option('honoSession needs the manager made by createSessions()')
  const path = options.path ?? '/'
  const sameSite = options.sameSite ?? 'Lax'
  const onError = options.onError ?? defaultOnError
  if (sameSite === 'None' && options.secure === false) option("sameSite 'None' requires a Secure cookie")

  let warned = false
  function isSecure(c: Context): boolean {
    if (typeof options.secure === 'boolean') return options.secure
    const proto = forwardedProto(c.req.header('x-forwarded-proto'))
    if (options.trustProxy === true && proto !== null) return proto === 'https'
    const secure = isHttps(c.req.url)
    if (!secure && proto === 'https' && options.trustProxy !== true && !warned) {
      warned = true
      console.warn(
        `[sessile] [${SOURCE}] a request came through a proxy that reports https, but the session cookie ` +
          "is sent without Secure: set honoSession's trustProxy: true (or secure: true) behind a TLS proxy",
      )
    }
    return secure
  }

  function cookieFor(c: Context): { name: string; attrs: CookieOptions } {
    const secure = isSecure(c)
    const prefix = !secure ? '' : options.domain === undefined && path === '/' ? '__Host-' : '__Secure-'
    const attrs: CookieOptions = { path, httpOnly: true, secure, sameSite }
    if (options.domain !== undefined) attrs.domain = options.domain
    return { name: options.cookieName ?? `${prefix}sid`, attrs }
  }

  const send = (c: Context, line: string) => c.header('Set-Cookie', line, { append: true })

  async function fail(c: Context, error: unknown): Promise<Response> {
    if (!isSessionError(error)) throw error
    return onError(error, c)
  }

  return async (c, next) => {
    const { name, attrs } = cookieFor(c)
    let session: Session<T>
    try {
      session = await sessions.load(readCookie(c.req.header('cookie'), name, { unquote: true }))
    } catch (e) {
      return fail(c, e)
    }
    c.set('session', session)
    c.set('sessions', sessions)
    try {
      await next()
    } catch (e) {
      // A logout still happens; otherwise (serialised mode) the lease goes back at once.
      if (session.isDestroyed) await sessions.commit(session).catch(() => {})
      else await sessions.release(session).catch(() => {})
      throw e
    }

    // A logout is saved whatever the response: an error page must never keep a session alive.
    const failed = c.error !== undefined || c.res.status >= 500
    if (failed && options.saveOnError !== true && !session.isDestroyed) {
      await sessions.release(session).catch(() => {})
      return
    }
    let result: Awaited<ReturnType<Sessions<T>['commit']>>
    const loadedExpiry = session.expires?.getTime()
    try {
      result = await sessions.commit(session)
    } catch (e) {
      const res = await fail(c, e)
      // Drop the handler's response entirely: Hono would otherwise copy its headers over.
      c.res = undefined
      c.res = res
      return
    }
    if (result.cookie === 'clear') {
      send(c, generateCookie(name, '', { ...attrs, maxAge: 0, expires: new Date(0) }))
      return
    }
    const persistent = options.persistent === true && result.expires !== null
    // A write that kept the row's expiry (an update with keepExpiry, while the move would be
    // small) leaves the cookie's Expires right as it is.
    const moved =
      (result.write === 'touch' || result.write === 'update') && result.expires?.getTime() !== loadedExpiry
    if (result.cookie === 'set' || (persistent && moved)) {
      // Browsers cap cookie lifetimes at 400 days, and Hono refuses to write longer ones.
      const expires = persistent
        ? new Date(Math.min((result.expires as Date).getTime(), Date.now() + MAX_COOKIE_MS))
        : undefined
      send(c, generateCookie(name, result.id, expires ? { ...attrs, expires } : attrs))
    }
  }
}
