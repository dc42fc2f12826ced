import type { IncomingMessage, ServerResponse } from 'node:http'
import {
  isSessionError,
  type PlainCookieOptions,
  plainCookie,
  type Session,
  type SessionData,
  SessionError,
  type Sessions,
} from '@sessile/core'

/** The cookie's attributes, named after the php.ini settings they mirror. */
export type PhpSessionOptions = PlainCookieOptions

/** What the middleware adds to the request. */
export interface PhpSessionRequest<T extends SessionData = SessionData> extends IncomingMessage {
  session: Session<T>
  sessions: Sessions<T>
}

/**
 * Express middleware for a session shared with PHP: the id travels as PHP's plain cookie
 * (`PHPSESSID`, no signature, as PHP reads and writes it), and the Sessile manager loads it into
 * `req.session` and commits it when the response ends. Pair it with `phpIds()` from
 * `@sessile/php` and a PHP session store; express-session cannot do this, as it signs its cookie.
 *
 * @example
 * app.use(phpSession(sessions))
 * app.get('/', (req, res) => {
 *   const { session } = req as PhpSessionRequest
 *   session.set('views', ((session.get('views') as number) ?? 0) + 1)
 *   res.send(`views: ${session.get('views')}`)
 * })
 */
export function phpSession<T extends SessionData = SessionData>(
  sessions: Sessions<T>,
  options: PhpSessionOptions = {},
): (req: IncomingMessage, res: ServerResponse, next: (err?: unknown) => void) => void {
  const fail = (m: string): never => {
    throw new SessionError('E_OPTION', 'express-php', m)
  }
  if (typeof sessions !== 'object' || sessions === null || typeof sessions.load !== 'function')
    fail('phpSession needs the manager made by createSessions()')
  const cookie = plainCookie(options, 'express-php')

  function append(res: ServerResponse, line: string): void {
    const prev = res.getHeader('Set-Cookie')
    res.setHeader(
      'Set-Cookie',
      prev === undefined ? [line] : [...(Array.isArray(prev) ? prev : [String(prev)]), line],
    )
  }

  return (req, res, next) => {
    sessions.load(cookie.read(req.headers.cookie)).then((session) => {
      const r = req as PhpSessionRequest<T>
      r.session = session
      r.sessions = sessions
      const end = res.end.bind(res) as (...args: unknown[]) => ServerResponse
      let ending = false
      // Commit before the response goes out, so its Set-Cookie can still be sent (as express-session does).
      res.end = ((...args: unknown[]) => {
        if (ending) return end(...args)
        ending = true
        if (res.statusCode >= 500) {
          sessions.release(session).finally(() => end(...args))
          return res
        }
        sessions.commit(session).then(
          (result) => {
            if (!res.headersSent) {
              const line = cookie.setCookie(req, result)
              if (line !== null) append(res, line)
            }
            end(...args)
          },
          (e: unknown) => {
            if (res.headersSent) return end(...args)
            res.statusCode = isSessionError(e) ? e.statusCode : 500
            end(isSessionError(e) ? e.message : 'session could not be saved')
          },
        )
        return res
      }) as typeof res.end
      next()
    }, next)
  }
}
