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
