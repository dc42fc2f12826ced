import { type ChildProcess, spawn } from 'node:child_process'
import { setTimeout as sleep } from 'node:timers/promises'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createSessions, type Sessions } from '../manager.js'
import type { SessionStore } from '../store.js'
import { applySetCookie, header, type Jar } from './cookie-jar.js'

/** One database {@link describeLoadBalanced} runs two app processes against. */
export interface LoadBalancedDatabase {
  /** For test names, e.g. `'PostgreSQL'`. */
  name: string
  /** Handed to each app process as `DATABASE_URL`. */
  url: string
  /** Skip this database (unreachable locally). */
  skip?: boolean
  /** A store on `table` in this database, for the suite's own checks; closed by the suite. */
  store: (table: string) => SessionStore | Promise<SessionStore>
  /** Drop `table` afterwards (every run uses a new one). */
  drop: (table: string) => Promise<void>
}

/** Options of {@link describeLoadBalanced}. */
export interface DescribeLoadBalancedOptions {
  /**
   * A Node script serving the route contract of `DescribeHttpAdapterOptions` (`/count`, `/data`,
   * `/login`, `/logout`) on the built packages. It reads `DATABASE_URL`, `SESSILE_TABLE` and
   * `PORT` (0: any free port) and prints `listening <port>` once it accepts requests. Its
   * sessions use `ref: data => data.user`.
   */
  script: string
  databases: readonly LoadBalancedDatabase[]
  /** How many requests alternate between the two processes. @default 24 */
  requests?: number
  /** Per-test timeout in ms. @default 60000 */
  timeout?: number
}

function startProcess(
  script: string,
  env: Record<string, string>,
): Promise<{ url: string; child: ChildProcess }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [script], {
      env: { ...process.env, ...env, NODE_OPTIONS: '' },
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    let out = ''
    let err = ''
    const timer = setTimeout(() => {
      child.kill()
      reject(new Error(`${script} did not start in 30 s: ${err || out}`))
    }, 30_000)
    child.stdout?.on('data', (chunk: Buffer) => {
      out += chunk.toString()
      const m = /listening (\d+)/.exec(out)
      if (m) {
        clearTimeout(timer)
        resolve({ url: `http://127.0.0.1:${m[1]}`, child })
      }
    })
    child.stderr?.on('data', (chunk: Buffer) => {
      err += chunk.toString()
    })
    child.once('exit', (code) => {
      clearTimeout(timer)
      reject(new Error(`${script} exited with ${code}: ${err || out}`))
    })
  })
}

/**
 * Two app processes behind an imaginary load balancer share one database: requests alternate
 * between them and the session must stay consistent (the counter rises by exactly one per
 * request; login on one is seen by the other; logout on one ends the session on both).
 *
 * @example
 * describeLoadBalanced('express', {
 *   script: fileURLToPath(new URL('./fixtures/server.mjs', import.meta.url)),
 *   databases: [{ name: 'PostgreSQL', url: PG_URL, store: (table) => pgStore({ url: PG_URL, table }), drop }],
 * })
 */
export function describeLoadBalanced(name: string, options: DescribeLoadBalancedOptions): void {
  const requests = options.requests ?? 24
  const timeout = options.timeout ?? 60_000
  for (const db of options.databases) {
    describe.skipIf(db.skip === true)(`load-balanced ${name} on ${db.name}`, { timeout }, () => {
      const table = `sessile_lb_${Math.random().toString(36).slice(2, 10)}`
      const children: ChildProcess[] = []
      let apps: string[] = []
      let store: SessionStore
      let sessions: Sessions

      beforeAll(async () => {
        store = await db.store(table)
        // Create the table before the apps race to.
        await store.count()
        sessions = createSessions({ store, ref: (d) => (typeof d.user === 'string' ? d.user : null) })
        const env = { DATABASE_URL: db.url, SESSILE_TABLE: table, PORT: '0' }
        const started = await Promise.all([
          startProcess(options.script, env),
          startProcess(options.script, env),
        ])
        for (const s of started) children.push(s.child)
        apps = started.map((s) => s.url)
      }, 60_000)

      afterAll(async () => {
        for (const child of children) {
          if (child.exitCode === null) {
            const exited = new Promise((resolve) => child.once('exit', resolve))
            child.kill('SIGTERM')
            await Promise.race([exited, sleep(5000)])
          }
        }
        await store?.close()
        await db.drop(table)
      }, 30_000)

      async function call(i: number, jar: Jar, method: string, path: string) {
        const res = await fetch((apps[i % 2] as string) + path, {
          method,
          headers: jar.size ? { cookie: header(jar) } : {},
          redirect: 'manual',
        })
        applySetCookie(jar, res.headers.getSetCookie())
        const text = await res.text()
        expect(res.status, `${method} ${path} on app ${i % 2}: ${text.slice(0, 200)}`).toBe(200)
        return JSON.parse(text) as Record<string, unknown>
      }

      it(`the counter rises by exactly one per request across ${requests} alternating requests`, async () => {
        const jar: Jar = new Map()
        for (let i = 0; i < requests; i++) {
          expect((await call(i, jar, 'GET', '/count')).count).toBe(i + 1)
        }
      })

      it('login on one process is seen by the other; logout on one ends it on both', async () => {
        const jar: Jar = new Map()
        await call(0, jar, 'GET', '/count')
        await call(1, jar, 'POST', '/login?user=lb-user')
        for (let i = 0; i < 4; i++) {
          expect(((await call(i, jar, 'GET', '/data')).data as Record<string, unknown>).user).toBe('lb-user')
        }
        expect(await sessions.findByRef('lb-user')).toHaveLength(1)
        const before = new Map(jar)
        await call(0, jar, 'POST', '/logout')
        expect(await sessions.findByRef('lb-user')).toHaveLength(0)
        for (let i = 0; i < 2; i++) {
          const data = (await call(i, new Map(before), 'GET', '/data')).data as Record<string, unknown>
          expect(data.user).toBeUndefined()
        }
      })
    })
  }
}
