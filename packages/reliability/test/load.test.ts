/**
 * Load: a sustained HTTP load, bounded in time, at the highest rate this machine allows (autocannon
 * with no rate limit, in this process, against the reliability app over real HTTP). 200 stored
 * sessions are shared out over the connections (each connection owns its sessions, so no two
 * requests of one session overlap), half the requests read (GET /data) and half write
 * (GET /count), while an expiry notifier sweeps every 200 ms and short-lived sessions keep
 * expiring underneath. Measured: requests, req/s, error rate, p99 latency, increments lost, heap
 * after a full GC before and after, expired sessions swept during the load.
 */
import { performance } from 'node:perf_hooks'
import { setTimeout as sleep } from 'node:timers/promises'
import { createSessions, type SessionStore, type Sessions } from '@sessile/core'
import { uniqueTable } from '@sessile/drizzle/testing'
import { type ExpiryNotifier, expiryNotifier } from '@sessile/notify'
// @ts-expect-error autocannon ships no type declarations; the part used here is typed below.
import autocannonUntyped from 'autocannon'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { Client, listen, type RunningApp, reliabilityApp } from '../src/app.js'
import { databases } from '../src/databases.js'
import { figure } from '../src/figures.js'

const SECTION = 'Load'
const SECONDS = 15
const WARMUP_SECONDS = 2
const CONNECTIONS = 20
const SESSIONS = 200
/** Short-lived sessions made during the load: this many every 100 ms, expiring after 1 s. */
const SHORT_PER_TICK = 5
const HEAP_GROWTH_LIMIT = 20 * 1024 * 1024

interface CannonRequest {
  setupRequest?: (req: Record<string, unknown>) => Record<string, unknown>
  onResponse?: (status: number, body: string) => void
}
interface CannonResult {
  requests: { total: number; sent: number; average: number }
  latency: { p50: number; p99: number; max: number }
  duration: number
  non2xx: number
  errors: number
  timeouts: number
  statusCodeStats: Record<string, { count: number }>
}
const autocannon = autocannonUntyped as (opts: {
  url: string
  connections: number
  duration: number
  setupClient: (client: { setRequests(requests: CannonRequest[]): void }) => void
}) => Promise<CannonResult>

const dbs = await databases(8)

const gc = (globalThis as { gc?: () => void }).gc

/** Heap in use after full collections (vitest.config.ts starts workers with --expose-gc). */
async function heapAfterGc(): Promise<number> {
  for (let i = 0; i < 3; i++) {
    gc?.()
    await sleep(50)
  }
  return process.memoryUsage().heapUsed
}

const MB = (bytes: number): number => Math.round((bytes / 1024 / 1024) * 10) / 10

for (const db of dbs) {
  describe.skipIf(db.skip)(`sustained load on ${db.name}`, () => {
    const table = uniqueTable('load')
    let store: SessionStore
    let sessions: Sessions
    let short: Sessions
    let app: RunningApp
    let notifier: ExpiryNotifier
    const cookies: string[] = []
    /** Storage keys of the short-lived sessions, and the keys onExpire was called with. */
    const shortKeys = new Set<string>()
    const expired: string[] = []
    const ref = (d: Record<string, unknown>) => (typeof d.user === 'string' ? d.user : null)

    beforeAll(async () => {
      store = db.store(table)
      sessions = createSessions({ store, ref })
      // Same table, sessions that expire 1 s after they are made.
      short = createSessions({ store, ref, idleTimeout: '1s', absoluteTimeout: '1s' })
      app = await listen(reliabilityApp(sessions))
      notifier = expiryNotifier(sessions, {
        interval: '200ms',
        onExpire: (_ref, key) => {
          expired.push(key)
        },
      })
      for (let i = 0; i < SESSIONS; i += CONNECTIONS) {
        const batch = Array.from({ length: Math.min(CONNECTIONS, SESSIONS - i) }, async (_, j) => {
          const c = new Client(app.url)
          const r = await c.call('POST', `/login?user=u${i + j}`)
          if (r.status !== 200 || !c.cookie) throw new Error(`login ${i + j} failed: ${r.status}`)
          return c.cookie
        })
        cookies.push(...(await Promise.all(batch)))
      }
    })

    afterAll(async () => {
      await notifier?.stop()
      await app?.close()
      await store?.close()
      await db.drop(table)
    })

    /** Short-lived sessions, SHORT_PER_TICK every 100 ms, until `stop` resolves. */
    async function makeShortLived(until: () => boolean): Promise<number> {
      let failed = 0
      let n = 0
      while (!until()) {
        const started = performance.now()
        await Promise.all(
          Array.from({ length: SHORT_PER_TICK }, async () => {
            const s = short.create({ user: `short${n++}` })
            try {
              await short.commit(s)
              shortKeys.add(short.keyOf(s.id))
            } catch {
              failed++
            }
          }),
        )
        await sleep(Math.max(0, 100 - (performance.now() - started)))
      }
      return failed
    }

    /** Each connection owns sessions k, k + CONNECTIONS, …; it alternates /data and /count. */
    function run(seconds: number, acks: { count: number }): Promise<CannonResult> {
      let nextSlot = 0
      return autocannon({
        url: app.url,
        connections: CONNECTIONS,
        duration: seconds,
        setupClient(client) {
          const slot = nextSlot++
          let i = 0
          client.setRequests([
            {
              setupRequest: (req) => {
                const cookie = cookies[(slot + CONNECTIONS * Math.floor(i / 2)) % SESSIONS] as string
                const path = i % 2 === 0 ? '/data' : '/count'
                i++
                return { ...req, method: 'GET', path, headers: { cookie } }
              },
              onResponse: (status, body) => {
                if (status === 200 && body.startsWith('{"count":')) acks.count++
              },
            },
          ])
        },
      })
    }

    /** Requests cut off at a run's deadline may still finish on the server: let them land. */
    const settle = () => sleep(500)

    /** The sum of the 200 sessions' counters (each must still be there). */
    async function countsOf(): Promise<number> {
      let total = 0
      for (let i = 0; i < SESSIONS; i += CONNECTIONS) {
        const batch = cookies.slice(i, i + CONNECTIONS).map(async (cookie) => {
          const c = new Client(app.url)
          c.cookie = cookie
          const r = await c.call('GET', '/data')
          const data = r.body.data as Record<string, unknown> | undefined
          if (r.status !== 200 || typeof data?.user !== 'string') throw new Error('a long session was lost')
          return Number(data.count ?? 0)
        })
        for (const n of await Promise.all(batch)) total += n
      }
      return total
    }

    it(`${SECONDS} s of mixed reads and writes on ${SESSIONS} sessions, sweeping every 200 ms: no error, flat heap`, async () => {
      // Warm-up: the same load for a moment, so the heap before holds what a running server holds.
      let warming = true
      const warmShort = makeShortLived(() => !warming)
      await run(WARMUP_SECONDS, { count: 0 })
      warming = false
      await warmShort
      // Before the counters are read, so only the load's own cut-off requests are unacknowledged.
      await settle()
      const countBefore = await countsOf()
      const heapBefore = await heapAfterGc()

      const acks = { count: 0 }
      let loading = true
      const expiredAtStart = expired.length
      const shortFailedP = makeShortLived(() => !loading)
      const result = await run(SECONDS, acks)
      loading = false
      const shortFailed = await shortFailedP
      const sweptDuringLoad = expired.length - expiredAtStart
      await settle()
      const countAfter = await countsOf()

      // Every short-lived session expires within 1 s; the sweep removes them all, the long ones none.
      await sleep(1200)
      await notifier.sweep()
      await notifier.flush()
      const heapAfter = await heapAfterGc()

      const total = result.requests.total
      const bad = result.non2xx + result.errors + result.timeouts
      const errorRate = total > 0 ? (bad / total) * 100 : 100
      const increments = countAfter - countBefore
      // Acknowledged increments missing from the counters (at most CONNECTIONS were cut off unacknowledged).
      const lost = Math.max(0, acks.count - increments)
      // Increments the server did beyond those acknowledged: only requests cut off at the deadline.
      const unacknowledged = increments - acks.count
      const sweptLong = expired.filter((k) => !shortKeys.has(k)).length
      const unswept = [...shortKeys].filter((k) => !expired.includes(k)).length
      const growth = heapAfter - heapBefore

      const f = (name: string, value: number, unit: string | undefined, target: string) =>
        figure({ section: SECTION, name: `${name}, ${db.name}`, value, unit, target })
      f(
        `requests in ${SECONDS} s (${CONNECTIONS} connections, ${SESSIONS} sessions, half reads half writes)`,
        total,
        undefined,
        '—',
      )
      f('throughput', Math.round(result.requests.average), 'req/s', '—')
      f('error rate (non-2xx + errors + timeouts) / requests', errorRate, '%', '0')
      f('p99 latency', result.latency.p99, 'ms', '< 2,000')
      f('acknowledged increments lost', lost, undefined, '0')
      f(
        'increments made but not acknowledged (cut off at the deadline)',
        unacknowledged,
        undefined,
        `≤ ${CONNECTIONS}`,
      )
      f('heap used after GC before the load', MB(heapBefore), 'MB', '—')
      f('heap used after GC after the load', MB(heapAfter), 'MB', '—')
      f('heap growth after GC', MB(growth), 'MB', `< ${MB(HEAP_GROWTH_LIMIT)}`)
      f('expired sessions swept during the load (onExpire calls)', sweptDuringLoad, undefined, '> 0')
      f('live sessions swept', sweptLong, undefined, '0')
      f('expired sessions left unswept after the final sweep', unswept, undefined, '0')

      expect(gc, 'workers run with --expose-gc (vitest.config.ts)').toBeTypeOf('function')
      expect(total).toBeGreaterThan(SECONDS * 50)
      expect(result.statusCodeStats).toEqual({ '200': { count: total } })
      expect(bad).toBe(0)
      expect(result.latency.p99).toBeLessThan(2000)
      expect(lost).toBe(0)
      expect(unacknowledged).toBeLessThanOrEqual(CONNECTIONS)
      expect(shortFailed).toBe(0)
      expect(sweptDuringLoad).toBeGreaterThan(0)
      expect(sweptLong).toBe(0)
      expect(unswept).toBe(0)
      expect(growth).toBeLessThan(HEAP_GROWTH_LIMIT)
    })
  })
}
