import { randomInt } from 'node:crypto'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { PlainCookieOptions } from '../_internal/plain-cookie.js'
import { isSessionError } from '../errors.js'
import type { IdFormat } from '../ids.js'
import { createSessions, type Sessions } from '../manager.js'
import { MemoryStore } from '../memory-store.js'
import type { HttpAdapterApp } from './http-adapter.js'

/**
 * Options of {@link describePlainCookieAdapter}.
 *
 * `start(sessions)` must serve, with the middleware made by `middleware(sessions)`:
 * - `GET /inc`: add 1 to the session field `n`, reply `{ "n": n, "isNew": session.isNew }`.
 * - `GET /read`: change nothing, reply the session's data.
 * - `GET /logout`: destroy the session, reply `{}`.
 */
export interface DescribePlainCookieAdapterOptions {
  /** Make the adapter's middleware; the suite also calls it with bad options and expects `E_OPTION`. */
  middleware: (sessions: Sessions, options?: PlainCookieOptions) => unknown
  /** Start the app on 127.0.0.1 (port 0), e.g. with `serveLoopback`. */
  start: (sessions: Sessions) => Promise<HttpAdapterApp>
}

// PHP's default shape for php.ini-production: 32 characters of 0-9a-v (5 bits each).
const phpLike: IdFormat & { generate(): string } = {
  name: 'php-like',
  bits: 160,
  test: (id) => /^[0-9a-v]{32}$/.test(id),
  generate: () =>
    Array.from({ length: 32 }, () => '0123456789abcdefghijklmnopqrstuv'[randomInt(32)]).join(''),
}

/**
 * The suite of a middleware that carries the id in PHP's plain, unsigned `PHPSESSID` cookie (see
 * `plainCookie`): the cookie line, Secure decided by the connection, no adoption of unknown ids,
 * logout, option checks.
 *
 * @example
 * describePlainCookieAdapter('phpSession: the plain PHPSESSID cookie on Express', {
 *   middleware: phpSession,
 *   start: (sessions) => serveLoopback(phpApp(sessions)),
 * })
 */
export function describePlainCookieAdapter(name: string, options: DescribePlainCookieAdapterOptions): void {
  describe(name, () => {
    const store = new MemoryStore()
    const sessions = createSessions({ store, ids: phpLike, acceptIds: [] })
    let app: HttpAdapterApp
    beforeAll(async () => {
      app = await options.start(sessions)
    })
    afterAll(() => app.close())

    const get = (path: string, cookie?: string) =>
      fetch(`${app.url}${path}`, { headers: cookie ? { cookie } : {} })

    it('sets an unsigned cookie holding the id as it is, and reads it back', async () => {
      const first = await get('/inc')
      const line = first.headers.getSetCookie()[0] as string
      const id = /^PHPSESSID=([0-9a-v]{32}); Path=\/; HttpOnly; SameSite=Lax$/.exec(line)?.[1]
      expect(id).toBeTruthy()
      expect(await (await get('/inc', `other=1; PHPSESSID=${id}`)).json()).toEqual({ n: 2, isNew: false })
      // A read-only request sends no cookie again.
      expect((await get('/read', `PHPSESSID=${id}`)).headers.getSetCookie()).toEqual([])
    })

    it('plain HTTP on a LAN host name gets no Secure: the connection decides, never the Host header', async () => {
      const { request } = await import('node:http')
      const u = new URL(`${app.url}/inc`)
      const line = await new Promise<string>((resolve, reject) => {
        request(
          { host: u.hostname, port: u.port, path: '/inc', headers: { host: 'nas.local:3000' } },
          (res) => {
            res.resume()
            resolve(String(res.headers['set-cookie']?.[0]))
          },
        )
          .on('error', reject)
          .end()
      })
      expect(line).toMatch(/^PHPSESSID=/)
      expect(line).not.toContain('Secure')
    })

    it('never adopts an unknown, malformed or signed id: a fresh session with a new id', async () => {
      for (const bad of ['0'.repeat(32), 's%3Aabc.sig', 'x'.repeat(300), 'A'.repeat(32)]) {
        const r = await get('/inc', `PHPSESSID=${bad}`)
        expect(await r.json()).toEqual({ n: 1, isNew: true })
        expect(r.headers.getSetCookie()[0]).not.toContain(bad)
      }
    })

    it('logout deletes the row and clears the cookie', async () => {
      const id = /PHPSESSID=([0-9a-v]{32})/.exec(
        (await get('/inc')).headers.getSetCookie()[0] as string,
      )?.[1] as string
      const out = await get('/logout', `PHPSESSID=${id}`)
      expect(out.headers.getSetCookie()[0]).toMatch(/^PHPSESSID=; .*Max-Age=0/)
      expect(await store.read(id)).toBeNull()
    })

    it('refuses bad options with E_OPTION', () => {
      for (const o of [{ cookieName: 'a b' }, { path: 'x' }, { sameSite: 'None', secure: false }]) {
        try {
          options.middleware(sessions, o as never)
          expect.unreachable()
        } catch (e) {
          expect(isSessionError(e) && e.code).toBe('E_OPTION')
        }
      }
    })
  })
}
