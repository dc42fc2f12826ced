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

const LOCAL_HOSTS = new Set(['localhost', '127.0.0.1', '[::1]'])

/** Plain HTTP to the developer's own machine: the one place a session cookie may go without Secure. */
export function isLocalPlainHttp(url: string): boolean {
  try {
    const u = new URL(url)
    return u.protocol === 'http:' && LOCAL_HOSTS.has(u.hostname)
  } catch {
    return false
  }
}
