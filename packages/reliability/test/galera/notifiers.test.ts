/**
 * Exactly-once expiry notification when notifiers sweep through different Galera nodes. Row
 * locks and SKIP LOCKED are per node there, so two nodes lock the same expired rows: the claim
 * holds only because a sweep reports just the rows its own DELETE removed, and certification
 * lets one of two deleting transactions commit (the other fails at COMMIT and runs again).
 */
import { createSessions } from '@sessile/core'
import type { SqlSessionStore } from '@sessile/drizzle'
import { type MysqlFailure, mysqlStore } from '@sessile/drizzle/mysql'
import { uniqueTable } from '@sessile/drizzle/testing'
import { expiryNotifier } from '@sessile/notify'
import { afterAll, describe, expect, it } from 'vitest'
import { figure } from '../../src/figures.js'
import { dropGaleraTables, NODES, nodeUrl, onNode, reachGalera } from '../../src/galera.js'

const SECTION = 'Galera cluster'
const SESSIONS = 10_000
const reach = await reachGalera()

describe.skipIf(reach.skip)('Galera: three expiry notifiers, one per node', () => {
  const table = uniqueTable('galera_n')
  const stores: SqlSessionStore[] = []

  afterAll(async () => {
    for (const s of stores) await s.close()
    await dropGaleraTables(table)
  })

  it(`${SESSIONS.toLocaleString('en-US')} expired sessions: each (ref, key) delivered exactly once`, async () => {
    const retries: Partial<Record<MysqlFailure, number>> = {}
    for (const n of NODES) {
      stores.push(
        mysqlStore({
          url: nodeUrl(n),
          table,
          connectionLimit: 4,
          onRetry: (f) => {
            retries[f] = (retries[f] ?? 0) + 1
          },
        }),
      )
    }
    await (stores[0] as SqlSessionStore).ensureSchema()
    // Expired rows, written through node 1 in batches (the store never writes a row already expired).
    const quoted = `\`${table}\``
    for (let start = 0; start < SESSIONS; start += 1000) {
      const rows = Array.from({ length: 1000 }, (_, i) => {
        const k = start + i
        return `('k${k}', 'x', 'u${k % 97}', UTC_TIMESTAMP(3) - INTERVAL 1 HOUR, UTC_TIMESTAMP(3) - INTERVAL 1 HOUR, UTC_TIMESTAMP(3) - INTERVAL ${1 + (k % 600)} SECOND, 1)`
      })
      await onNode(
        1,
        `INSERT INTO ${quoted} (\`key\`, data, ref, created, modified, expiry, version) VALUES ${rows.join(',')}`,
      )
    }

    const delivered = new Map<string, number>()
    const refs = new Map<string, string | null>()
    const failures: string[] = []
    const notifiers = stores.map((store) =>
      expiryNotifier(createSessions({ store }), {
        interval: false,
        batchSize: 250,
        onExpire: (ref, key) => {
          delivered.set(key, (delivered.get(key) ?? 0) + 1)
          refs.set(key, ref)
        },
        onError: (f) => failures.push(String(f.error)),
      }),
    )
    // Each notifier sweeps through its own node until nothing is left to sweep.
    let sweeps = 0
    let failedSweeps = 0
    const started = performance.now()
    await Promise.all(
      notifiers.map(async (n) => {
        for (let round = 0; round < 400; round++) {
          try {
            const r = await n.sweep()
            sweeps++
            if (r.expired === 0 && !r.more) break
          } catch (error) {
            failedSweeps++
            failures.push(String(error))
          }
        }
      }),
    )
    const ms = performance.now() - started
    for (const n of notifiers) await n.stop()

    let duplicates = 0
    let missing = 0
    let wrongRef = 0
    for (let k = 0; k < SESSIONS; k++) {
      const got = delivered.get(`k${k}`) ?? 0
      if (got === 0) missing++
      if (got > 1) duplicates += got - 1
      if (got > 0 && refs.get(`k${k}`) !== `u${k % 97}`) wrongRef++
    }
    const unknown = [...delivered.keys()].filter((k) => !/^k\d+$/.test(k)).length
    const left = await onNode<{ n: number }[]>(2, `SELECT COUNT(*) AS n FROM ${quoted}`)
    figure({
      section: SECTION,
      name: 'expiry notifications delivered twice (3 notifiers, one per node, 10,000 expired)',
      value: duplicates,
      target: '0',
    })
    figure({ section: SECTION, name: 'expired sessions never notified', value: missing, target: '0' })
    figure({
      section: SECTION,
      name: 'notifications with a wrong ref or unknown key',
      value: wrongRef + unknown,
      target: '0',
    })
    figure({
      section: SECTION,
      name: 'sweep transactions retried after a conflict (certification or claim raced)',
      value: retries.conflict ?? 0,
    })
    figure({
      section: SECTION,
      name: 'sweeps that failed (reported, nothing handed out)',
      value: failedSweeps,
    })
    figure({
      section: SECTION,
      name: 'sweeps run / time to drain 10,000',
      value: `${sweeps} / ${Math.round(ms)} ms`,
    })
    if (failures.length > 0) console.log('[galera] sweep failures:', failures.slice(0, 5))
    expect(duplicates).toBe(0)
    expect(missing).toBe(0)
    expect(wrongRef + unknown).toBe(0)
    expect(Number(left[0]?.n)).toBe(0)
  })
})
