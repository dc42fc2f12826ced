import type { IncomingMessage, ServerResponse } from 'node:http'
import { type Session, type SessionData, SessionError, type Sessions } from '@sessile/core'

export interface KoaPhpSessionOptions {
  /**
   * The cookie's name: PHP's `session.name`.
   * @default 'PHPSESSID'
   */
  cookieName?: string
  /**
   * The cookie's `Path` (PHP's `session.cookie_path`).
   * @default '/'
   */
  path?: string
  /** The cookie's `Domain` (PHP's `session.cookie_domain`); unset keeps it host-only. */
  domain?: string
  /**
   * `Secure` (PHP's `session.cookie_secure`). `'auto'`: exactly when the connection is TLS, never decided from
   * the Host header; behind a TLS-terminating proxy set `true`.
   * @default 'auto'
   */
  secure?: boolean | 'auto'
  /**
   * `SameSite` (PHP's `session.cookie_samesite`).
   * @default 'Lax'
   */
  sameSite?: 'Strict' | 'Lax' | 'None'
}

/** The part of Koa's context this middleware uses; the session lands in `ctx.state.session`. */
export interface KoaPhpContext {
  req: IncomingMessage
  res: ServerResponse
  status: number
  state: Record<string, unknown>
  get(field: string): string
  append(field: string, value: string | string[]): void
}

const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/

function readCookie(header: string | undefined, name: string): string | null {
  if (!header) return null
  for (const part of header.split(';')) {
    const eq = part.indexOf('=')
    if (eq < 0 || part.slice(0, eq).trim() !== name) continue
    const value = part.slice(eq + 1).trim()
    return value.length > 0 && value.length <= 256 ? value : null
  }
  return null
}

/**
 * Koa middleware for a session shared with PHP: the id travels as PHP's plain cookie
 * (`PHPSESSID`, no signature), `ctx.state.session` holds the Sessile session, committed after the
 * downstream middleware (not on a thrown error or a 5xx). koa-session cannot do this: it signs.
 *
 * @example
 * app.use(koaPhpSession(sessions))
 * app.use((ctx) => {
 *   const session = ctx.state.session as Session
 *   session.set('views', ((session.get('views') as number) ?? 0) + 1)
 * })
 */
export function koaPhpSession<T extends SessionData = SessionData>(
  sessions: Sessions<T>,
  options: KoaPhpSessionOptions = {},
): (ctx: KoaPhpContext, next: () => Promise<unknown>) => Promise<void> {
  const fail = (m: string): never => {
    throw new SessionError('E_OPTION', 'koa-php', m)
  }
  if (typeof sessions !== 'object' || sessions === null || typeof sessions.load !== 'function')
    fail('koaPhpSession needs the manager made by createSessions()')
  const name = options.cookieName ?? 'PHPSESSID'
  if (!TOKEN.test(name)) fail('cookieName must be a cookie token')
  const path = options.path ?? '/'
  if (!path.startsWith('/') || /[;\s]/.test(path)) fail('path must start with "/" and hold no ";" or spaces')
  if (options.domain !== undefined && !/^[A-Za-z0-9.-]+$/.test(options.domain))
    fail('domain must be a host name')
  const sameSite = options.sameSite ?? 'Lax'
  if (!['Strict', 'Lax', 'None'].includes(sameSite)) fail("sameSite must be 'Strict', 'Lax' or 'None'")
  if (sameSite === 'None' && options.secure === false) fail("sameSite 'None' requires a Secure cookie")

  function cookie(ctx: KoaPhpContext, value: string, clear: boolean): string {
    const secure =
      options.secure === undefined || options.secure === 'auto'
        ? (ctx.req.socket as { encrypted?: boolean }).encrypted === true
        : options.secure
    let line = `${name}=${value}; Path=${path}; HttpOnly; SameSite=${sameSite}`
    if (options.domain) line += `; Domain=${options.domain}`
    if (secure) line += '; Secure'
    if (clear) line += '; Max-Age=0; Expires=Thu, 01 Jan 1970 00:00:00 GMT'
    return line
  }

  return async (ctx, next) => {
    const session: Session<T> = await sessions.load(readCookie(ctx.get('cookie') || undefined, name))
    ctx.state.session = session
    ctx.state.sessions = sessions
    try {
      await next()
    } catch (e) {
      await sessions.release(session).catch(() => {})
      throw e
    }
    if (ctx.status >= 500) {
      await sessions.release(session).catch(() => {})
      return
    }
    const result = await sessions.commit(session)
    if (result.cookie === 'clear') ctx.append('Set-Cookie', cookie(ctx, '', true))
    else if (result.cookie === 'set') ctx.append('Set-Cookie', cookie(ctx, result.id, false))
  }
}
