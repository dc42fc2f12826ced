// The test suites keep cookies themselves, as a browser would, so they can drop, copy or replay them.

/** Cookies as a browser would keep them for one host: name to value. */
export type Jar = Map<string, string>

export function applySetCookie(jar: Jar, lines: readonly string[]): void {
  for (const line of lines) {
    const [pair = '', ...attrs] = line.split(';')
    const eq = pair.indexOf('=')
    if (eq < 1) continue
    const name = pair.slice(0, eq).trim()
    const value = pair.slice(eq + 1).trim()
    let expired = value === ''
    for (const attr of attrs) {
      const [k = '', v = ''] = attr.split('=')
      const key = k.trim().toLowerCase()
      if (key === 'max-age' && Number(v) <= 0) expired = true
      if (key === 'expires' && Date.parse(v) <= Date.now()) expired = true
    }
    if (expired) jar.delete(name)
    else jar.set(name, value)
  }
}

/** The `cookie` request header for the jar. */
export const header = (jar: Jar): string => [...jar].map(([k, v]) => `${k}=${v}`).join('; ')
