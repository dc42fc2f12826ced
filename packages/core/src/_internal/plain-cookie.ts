import type { IncomingMessage } from 'node:http'
import { SessionError } from '../errors.js'
import type { CommitResult } from '../sessions.js'

/** The attributes of an unsigned session cookie, named after the php.ini settings they mirror. */
export interface PlainCookieOptions {
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

/** A checked {@link PlainCookieOptions}: reads the id from a request and writes what a commit asks for. */
export interface PlainCookie {
  /** The session id in a `Cookie` header, or null. */
  read(header: string | undefined): string | null
  /** The `Set-Cookie` line for a commit's result, or null when the cookie stays as it is. */
  setCookie(req: IncomingMessage, result: CommitResult): string | null
}

const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/

/** Longer cookie values are never ids; they are dropped before any parsing or store lookup. */
const MAX_VALUE_LENGTH = 256

/**
 * The first value of cookie `name` in a `Cookie` header, or null. Browsers list the cookie with
 * the most specific path first, so the first of duplicates is the one this app set; anything that
 * is not a plain cookie value gives null (a fresh session), never an exception. `unquote` strips
 * one pair of surrounding double quotes (RFC 6265 allows them; PHP keeps them, so its cookie must not).
 */
export function readCookie(
  header: string | undefined,
  name: string,
  { unquote = false }: { unquote?: boolean } = {},
): string | null {
  if (!header) return null
  for (const part of header.split(';')) {
    const eq = part.indexOf('=')
    if (eq < 0 || part.slice(0, eq).trim() !== name) continue
    let value = part.slice(eq + 1).trim()
    if (unquote && value.length >= 2 && value.startsWith('"') && value.endsWith('"'))
      value = value.slice(1, -1)
    return value.length > 0 && value.length <= MAX_VALUE_LENGTH ? value : null
  }
  return null
}

/**
 * Check the options of an unsigned (PHP-style) session cookie, throwing `E_OPTION` from `source`,
 * and return its reader and writer.
 */
export function plainCookie(options: PlainCookieOptions, source: string): PlainCookie {
  const fail = (m: string): never => {
    throw new SessionError('E_OPTION', source, m)
  }
  const name = options.cookieName ?? 'PHPSESSID'
  if (!TOKEN.test(name)) fail('cookieName must be a cookie token')
  const path = options.path ?? '/'
  if (!path.startsWith('/') || /[;\s]/.test(path)) fail('path must start with "/" and hold no ";" or spaces')
  if (options.domain !== undefined && !/^[A-Za-z0-9.-]+$/.test(options.domain))
    fail('domain must be a host name')
  const sameSite = options.sameSite ?? 'Lax'
  if (!['Strict', 'Lax', 'None'].includes(sameSite)) fail("sameSite must be 'Strict', 'Lax' or 'None'")
  if (sameSite === 'None' && options.secure === false) fail("sameSite 'None' requires a Secure cookie")

  function line(req: IncomingMessage, value: string, clear: boolean): string {
    const secure =
      options.secure === undefined || options.secure === 'auto'
        ? (req.socket as { encrypted?: boolean }).encrypted === true
        : options.secure
    let out = `${name}=${value}; Path=${path}; HttpOnly; SameSite=${sameSite}`
    if (options.domain) out += `; Domain=${options.domain}`
    if (secure) out += '; Secure'
    if (clear) out += '; Max-Age=0; Expires=Thu, 01 Jan 1970 00:00:00 GMT'
    return out
  }

  return {
    read: (header) => readCookie(header, name),
    setCookie: (req, result) =>
      result.cookie === 'clear'
        ? line(req, '', true)
        : result.cookie === 'set'
          ? line(req, result.id, false)
          : null,
  }
}
