import type { IncomingMessage, ServerResponse } from 'node:http'
import { isSessionError, type Session, type SessionData, SessionError, type Sessions } from '@sessile/core'

export interface PhpSessionOptions {
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

/** What the middleware adds to the request. */
export interface PhpSessionRequest<T extends SessionData = SessionData> extends IncomingMessage {
  session: Session<T>
  sessions: Sessions<T>
}

const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/

function readCookie(header: string | undefined, name: string): string | null {
  if (!header) return null
  for (const part of header.split(';')) {
    const eq = part.indexOf('=')
    if (eq < 0 || part.slice(0, eq).trim() !== name) continue
    const value = part.slice(eq + 1).trim()
    // Longer values are never ids: dropped before any lookup.
    return value.length > 0 && value.length <= 256 ? value : null
  }
  return null
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
  const name = options.cookieName ?? 'PHPSESSID'
  if (!TOKEN.test(name)) fail('cookieName must be a cookie token')
  const path = options.path ?? '/'
  if (!path.startsWith('/') || /[;\s]/.test(path)) fail('path must start with "/" and hold no ";" or spaces')
  if (options.domain !== undefined && !/^[A-Za-z0-9.-]+$/.test(options.domain))
    fail('domain must be a host name')
  const sameSite = options.sameSite ?? 'Lax'
  if (!['Strict', 'Lax', 'None'].includes(sameSite)) fail("sameSite must be 'Strict', 'Lax' or 'None'")
  if (sameSite === 'None' && options.secure === false) fail("sameSite 'None' requires a Secure cookie")

  function cookie(req: IncomingMessage, value: string, clear: boolean): string {
    const secure =
      options.secure === undefined || options.secure === 'auto'
        ? (req.socket as { encrypted?: boolean }).encrypted === true
        : options.secure
    let line = `${name}=${value}; Path=${path}; HttpOnly; SameSite=${sameSite}`
    if (options.domain) line += `; Domain=${options.domain}`
    if (secure) line += '; Secure'
    if (clear) line += '; Max-Age=0; Expires=Thu, 01 Jan 1970 00:00:00 GMT'
    return line
  }

  function append(res: ServerResponse, line: string): void {
    const prev = res.getHeader('Set-Cookie')
    res.setHeader(
      'Set-Cookie',
      prev === undefined ? [line] : [...(Array.isArray(prev) ? prev : [String(prev)]), line],
    )
  }

  return (req, res, next) => {
    sessions.load(readCookie(req.headers.cookie, name)).then((session) => {
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
              if (result.cookie === 'clear') append(res, cookie(req, '', true))
              else if (result.cookie === 'set') append(res, cookie(req, result.id, false))
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
