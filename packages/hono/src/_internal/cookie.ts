/** Longer cookie values are never ids; they are dropped before any parsing or store lookup. */
const MAX_VALUE_LENGTH = 256

/**
 * The first value of cookie `name` in a `Cookie` header, or null. Browsers list the cookie with
 * the most specific path first, so the first of duplicates is the one this app set; anything that
 * is not a plain cookie value gives null (a fresh session), never an exception.
 */
export function readCookie(header: string | undefined, name: string): string | null {
  if (!header) return null
  for (const part of header.split(';')) {
    const eq = part.indexOf('=')
    if (eq < 0 || part.slice(0, eq).trim() !== name) continue
    let value = part.slice(eq + 1).trim()
    if (value.length >= 2 && value.startsWith('"') && value.endsWith('"')) value = value.slice(1, -1)
    return value.length > 0 && value.length <= MAX_VALUE_LENGTH ? value : null
  }
  return null
}

/** Whether the request URL's scheme is https (on Node, the connection's own: TLS or not). */
export function isHttps(url: string): boolean {
  return url.startsWith('https:')
}

/** The first value of an `X-Forwarded-Proto` header, lower-cased, or null. */
export function forwardedProto(header: string | undefined): string | null {
  if (!header) return null
  const first = header.split(',')[0]?.trim().toLowerCase()
  return first ? first : null
}
