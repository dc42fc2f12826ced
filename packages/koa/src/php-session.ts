import type { IncomingMessage, ServerResponse } from 'node:http'
import {
  type PlainCookieOptions,
  plainCookie,
  type Session,
  type SessionData,
  SessionError,
  type Sessions,
} from '@sessile/core'

/** The cookie's attributes, named after the php.ini settings they mirror. */
export type KoaPhpSessionOptions = PlainCookieOptions

/** The part of Koa's context this middleware uses; the session lands in `ctx.state.session`. */
export interface KoaPhpContext {
  req: IncomingMessage
  res: ServerResponse
  status: number
  state: Record<string, unknown>
  get(field: string): string
  append(field: string, value: string | string[]): void
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
  const cookie = plainCookie(options, 'koa-php')

  return async (ctx, next) => {
    const session: Session<T> = await sessions.load(cookie.read(ctx.get('cookie') || undefined))
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
    const line = cookie.setCookie(ctx.req, await sessions.commit(session))
    if (line !== null) ctx.append('Set-Cookie', line)
  }
}
