/**
 * What the fault tests share: the app under test in a child process (app-process.mjs, on the
 * built packages) and a load of clients, each on its own logged-in session, that checks every
 * reply against what it knows its session holds.
 */
import { type ChildProcess, spawn } from 'node:child_process'
import { existsSync, readdirSync, statSync } from 'node:fs'
import { performance } from 'node:perf_hooks'
import { setTimeout as sleep } from 'node:timers/promises'
import { fileURLToPath } from 'node:url'
import { expect } from 'vitest'
import { Client } from '../../src/app.js'
import { figure } from '../../src/figures.js'

const APP = fileURLToPath(new URL('./app-process.mjs', import.meta.url))
const PACKAGES = fileURLToPath(new URL('../../../', import.meta.url))
const BUILT = ['core/dist/index.js', 'drizzle/dist/pg.js', 'drizzle/dist/mysql.js', 'express/dist/index.js']

export interface ChildApp {
  url: string
  child: ChildProcess
  /** What the child wrote to stderr (its unhandled rejections and 500s are logged there). */
  stderr(): string
  /** Still running: no crash, no exit. */
  alive(): boolean
  stats(): Promise<{ unhandledRejections: number; uncaughtExceptions: number; errors500: number }>
  stop(): Promise<void>
}

/** Start app-process.mjs with these FAULT_* variables; resolves once it listens. */
export async function startApp(env: Record<string, string>): Promise<ChildApp> {
  const missing = BUILT.filter((f) => !existsSync(PACKAGES + f))
  if (missing.length > 0) {
    throw new Error(
      `fault tests run the built packages; missing ${missing.join(', ')}: run \`pnpm -w build\``,
    )
  }
  const stale = BUILT.filter((f) => {
    const src = PACKAGES + f.replace(/dist\/.*$/, 'src')
    return newestMtime(src) > statSync(PACKAGES + f).mtimeMs
  })
  if (stale.length > 0)
    console.warn(
      `[faults] src changed after dist was built (${stale.join(', ')}): the app runs dist; rebuild with \`pnpm -w build\` if that matters`,
    )

  const child = spawn(process.execPath, [APP], {
    cwd: fileURLToPath(new URL('../../', import.meta.url)),
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let err = ''
  child.stderr?.setEncoding('utf8').on('data', (d: string) => {
    err += d
    process.stderr.write(`[app stderr] ${d}`)
  })
  const port = await new Promise<number>((resolve, reject) => {
    let out = ''
    const timer = setTimeout(() => reject(new Error(`app did not start in 30 s: ${err}`)), 30_000)
    child.stdout?.setEncoding('utf8').on('data', (d: string) => {
      out += d
      const m = /LISTENING (\d+)/.exec(out)
      if (m) {
        clearTimeout(timer)
        resolve(Number(m[1]))
      }
    })
    child.once('exit', (code, signal) => {
      clearTimeout(timer)
      reject(new Error(`app exited before listening (code ${code}, signal ${signal}): ${err}`))
    })
  })
  const url = `http://127.0.0.1:${port}`
  return {
    url,
    child,
    stderr: () => err,
    alive: () => child.exitCode === null && child.signalCode === null,
    async stats() {
      const res = await fetch(`${url}/stats`, { signal: AbortSignal.timeout(10_000) })
      return (await res.json()) as Awaited<ReturnType<ChildApp['stats']>>
    },
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return
      const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
      child.kill('SIGTERM')
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000)
      await exited
      clearTimeout(timer)
    },
  }
}

function newestMtime(dir: string): number {
  let newest = 0
  const walk = (d: string): void => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = `${d}/${e.name}`
      if (e.isDirectory()) walk(p)
      else newest = Math.max(newest, statSync(p).mtimeMs)
    }
  }
  walk(dir)
  return newest
}

interface User {
  name: string
  client: Client
  /** Count of the last 200 on the right session. */
  acked: number
  /** The last count seen in a 200 (right session or not). */
  last: number
  /** Failed requests since the last 200: each may have been committed before its reply was lost. */
  failures: number
  /** When its request in flight was sent (performance.now), or null between requests. */
  sentAt: number | null
}

/** How long one request of the load may take before it counts as an unclear error. */
const REQUEST_MS = 20_000
/** How long stopping the load may take: its last requests' timeout, and a margin. */
const STOP_MS = REQUEST_MS + 10_000
/** How long checking every session after the faults may take before the rest count as lost. */
const CHECK_MS = 120_000

/** ~n clients, each logged in as itself, looping GET /count and checking every reply. */
export class Load {
  readonly users: User[] = []
  ok = 0
  /** 503 with a JSON `error`: the clear answer while the database is away. */
  clearErrors = 0
  /** Anything else that is not a 200: other statuses, bodies without an error, timeouts, resets. */
  unclearErrors = 0
  /** A 200 with another user, no user, or a count that went back, reset or jumped impossibly. */
  wrong = 0
  readonly samples: string[] = []
  #running = false
  #loops: Promise<void>[] = []
  #waiters: { after: number; resolve: (at: number) => void }[] = []
  /** Every 200: when its request was sent and when it came back (performance.now). */
  #oks: { sent: number; at: number }[] = []

  constructor(
    readonly base: string,
    readonly n: number,
    readonly prefix: string,
  ) {}

  #sample(s: string): void {
    if (this.samples.length < 20) this.samples.push(s)
  }

  /** Log every client in (before any fault), then start the loops. */
  async start(): Promise<void> {
    for (let i = 0; i < this.n; i++) {
      const name = `${this.prefix}${i}`
      const client = new Client(this.base)
      const r = await client.call('POST', `/login?user=${name}`)
      if (r.status !== 200 || !client.cookie)
        throw new Error(`login ${name}: ${r.status} ${JSON.stringify(r.body)}`)
      this.users.push({ name, client, acked: 0, last: 0, failures: 0, sentAt: null })
    }
    this.#running = true
    this.#loops = this.users.map((u) => this.#loop(u))
  }

  /** The time (performance.now) of the first 200 to a request sent at or after `after`. */
  firstOkAfter(after: number): Promise<number> {
    const seen = this.#oks.find((ok) => ok.sent >= after)
    if (seen) return Promise.resolve(seen.at)
    return new Promise((resolve) => this.#waiters.push({ after, resolve }))
  }

  async #loop(u: User): Promise<void> {
    while (this.#running) {
      const sent = performance.now()
      u.sentAt = sent
      let status: number
      let body: Record<string, unknown>
      try {
        ;({ status, body } = await u.client.call('GET', '/count', {
          signal: AbortSignal.timeout(REQUEST_MS),
        }))
      } catch (error) {
        u.sentAt = null
        this.unclearErrors++
        u.failures++
        this.#sample(`${u.name}: request failed: ${String(error)}`)
        await sleep(50)
        continue
      }
      u.sentAt = null
      if (status === 200) {
        this.ok++
        const { count, user } = body
        const n = typeof count === 'number' ? count : Number.NaN
        if (user !== u.name || !(n >= u.last + 1 && n <= u.last + 1 + u.failures)) {
          this.wrong++
          this.#sample(
            `${u.name}: 200 with ${JSON.stringify(body)} after count ${u.last} and ${u.failures} failures`,
          )
        } else {
          u.acked = n
        }
        if (Number.isFinite(n)) u.last = n
        u.failures = 0
        const at = performance.now()
        this.#oks.push({ sent, at })
        this.#waiters = this.#waiters.filter((w) => {
          if (sent < w.after) return true
          w.resolve(at)
          return false
        })
      } else {
        u.failures++
        if (status === 503 && typeof body.error === 'string') this.clearErrors++
        else {
          this.unclearErrors++
          this.#sample(`${u.name}: ${status} ${JSON.stringify(body).slice(0, 300)}`)
        }
        await sleep(50)
      }
      // A breath between requests: 32 clients flat out would starve the shared 2-core machine.
      await sleep(5)
    }
  }

  /**
   * Stop the loops and wait for their requests in flight, each bounded by its own timeout; a
   * request still unanswered past that fails the run naming it, rather than hanging the suite.
   */
  async stop(): Promise<void> {
    this.#running = false
    const done = await Promise.race([
      Promise.all(this.#loops).then(() => true),
      sleep(STOP_MS).then(() => false),
    ])
    if (done) return
    const now = performance.now()
    const stuck = this.users
      .filter((u) => u.sentAt !== null)
      .map((u) => `${u.name} (GET /count sent ${Math.round(now - (u.sentAt ?? now))} ms ago)`)
    throw new Error(
      `the load did not stop within ${STOP_MS} ms although each request has a ${REQUEST_MS} ms timeout; in flight: ${stuck.join(', ') || 'none'}`,
    )
  }

  /**
   * After the faults, with the database back: every client's session must still hold its user
   * and at least the last count acknowledged with a 200. Returns the sessions that do not.
   */
  async lost(): Promise<string[]> {
    const lost: string[] = []
    const deadline = performance.now() + CHECK_MS
    for (const u of this.users) {
      let r: Awaited<ReturnType<Client['call']>> | undefined
      const seen: string[] = []
      for (let attempt = 0; attempt < 20 && performance.now() < deadline; attempt++) {
        const sent = performance.now()
        try {
          r = await u.client.call('GET', '/data', { signal: AbortSignal.timeout(REQUEST_MS) })
        } catch (error) {
          r = undefined
          seen.push(`${String(error)} after ${Math.round(performance.now() - sent)} ms`)
          continue
        }
        if (r.status !== 503) break
        seen.push(
          `503 ${JSON.stringify(r.body).slice(0, 200)} after ${Math.round(performance.now() - sent)} ms`,
        )
        await sleep(250)
      }
      const data = (r?.body.data ?? {}) as { user?: unknown; count?: unknown }
      if (
        r?.status !== 200 ||
        data.user !== u.name ||
        typeof data.count !== 'number' ||
        data.count < u.acked
      ) {
        lost.push(
          `${u.name}: acked ${u.acked}, stored ${r?.status} ${JSON.stringify(r?.body)}${seen.length > 0 ? `; before that: ${seen.join('; ')}` : ''}`,
        )
      } else if (seen.length > 0) {
        this.#sample(`${u.name}: checking its session saw ${seen.join('; ')} before its 200`)
      }
    }
    return lost
  }
}

/**
 * Stop the load, then print and assert what every fault test must show, whatever the fault:
 * no crash, no unhandled rejection, no wrong or empty session in a 200, no committed session lost,
 * every failure a clear 503. `label` names the run in the figures, e.g. 'PostgreSQL, 32 clients'.
 */
export async function finishLoad(load: Load, app: ChildApp, section: string, label: string): Promise<void> {
  await load.stop()
  const lost = await load.lost()
  const stats = await app.stats()
  const alive = app.alive()
  if (load.samples.length > 0) console.log('[faults] samples:\n', load.samples.join('\n'))
  if (lost.length > 0) console.log('[faults] lost:\n', lost.join('\n'))

  const name = (what: string) => `${what} (${label})`
  figure({ section, name: name('requests answered 200'), value: load.ok })
  figure({ section, name: name('clear errors (503 JSON)'), value: load.clearErrors })
  figure({
    section,
    name: name('unclear errors (other status, reset, timeout)'),
    value: load.unclearErrors,
    target: '0',
  })
  figure({ section, name: name('wrong or empty session in a 200'), value: load.wrong, target: '0' })
  figure({ section, name: name('committed sessions lost'), value: lost.length, target: '0' })
  figure({ section, name: name('crashes'), value: alive ? 0 : 1, target: '0' })
  figure({
    section,
    name: name('unhandled rejections'),
    value: stats.unhandledRejections + stats.uncaughtExceptions,
    target: '0',
  })

  expect(alive).toBe(true)
  expect(stats.unhandledRejections).toBe(0)
  expect(stats.uncaughtExceptions).toBe(0)
  expect(load.wrong).toBe(0)
  expect(lost).toEqual([])
  expect(load.unclearErrors).toBe(0)
}
