/**
 * Cross-node: three app servers, each on its own Galera node, behind a round-robin "load
 * balancer" (the client picks the next app for every request). What a single server never shows:
 * a read on one node right after a commit on another, and certification failures at COMMIT when
 * two nodes change the same row.
 */
import { createSessions, isSessionError, type Sessions } from '@sessile/core'
import type { SqlSessionStore } from '@sessile/drizzle'
import { type MysqlFailure, mysqlStore } from '@sessile/drizzle/mysql'
import { uniqueTable } from '@sessile/drizzle/testing'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { Client, listen, type RunningApp, reliabilityApp } from '../../src/app.js'
import { figure } from '../../src/figures.js'
import { dropGaleraTables, NODES, nodeUrl, reachGalera } from '../../src/galera.js'

const SECTION = 'Galera cluster'
const CONCURRENCY = 32
const ROUNDS = 20
const reach = await reachGalera()

/** Retries seen by the stores, by kind. */
const retries: Record<string, number> = {}
const onRetry = (failure: MysqlFailure) => {
  retries[failure] = (retries[failure] ?? 0) + 1
}

describe.skipIf(reach.skip)('Galera: three app servers, one per node', () => {
  const table = uniqueTable('galera_x')
  const stores: SqlSessionStore[] = []
  const apps: RunningApp[] = []
  const serialApps: RunningApp[] = []
  const store = (n: number, more: Parameters<typeof mysqlStore>[0] = {}) => {
    const s = mysqlStore({ url: nodeUrl(n), table, connectionLimit: 8, onRetry, ...more })
    stores.push(s)
    return s
  }

  beforeAll(async () => {
    await store(1).ensureSchema()
    for (const n of NODES) {
      const s = store(n)
      apps.push(await listen(reliabilityApp(createSessions({ store: s }))))
      const serial = createSessions({ store: s, serialize: { lease: '2s', wait: '60s' } })
      serialApps.push(await listen(reliabilityApp(serial)))
    }
  })

  afterAll(async () => {
    for (const a of [...apps, ...serialApps]) await a.close()
    for (const s of stores) await s.close()
    await dropGaleraTables(table)
  })

  /** A client that sends each request to the next app (round robin over the nodes). */
  function balanced(pool: RunningApp[], start = 0) {
    let next = start
    const one = new Client(pool[0]?.url ?? '')
    return {
      get cookie() {
        return one.cookie
      },
      call(method: string, path: string) {
        const c = new Client((pool[next++ % pool.length] as RunningApp).url)
        c.cookie = one.cookie
        return c.call(method, path).then((r) => {
          if (c.cookie !== one.cookie) one.cookie = c.cookie
          return r
        })
      },
      /** Another tab with the same cookie, starting at another app. */
      clone(offset: number) {
        const b = balanced(pool, offset)
        b.adopt(one.cookie)
        return b
      },
      adopt(cookie: string | null) {
        one.cookie = cookie
      },
    }
  }

  it('a session written through one node is read through the other two by the very next request', async () => {
    let stale = 0
    let failed = 0
    const ROUNDS_RW = 150
    for (let round = 0; round < ROUNDS_RW; round++) {
      const writer = round % 3
      const c = new Client((apps[writer] as RunningApp).url)
      const w = await c.call('POST', `/set?name=v&value=r${round}`)
      if (w.status !== 200) failed++
      for (const other of [1, 2]) {
        const r = new Client((apps[(writer + other) % 3] as RunningApp).url)
        r.cookie = c.cookie
        const got = await r.call('GET', '/data')
        if (got.status !== 200) failed++
        else if ((got.body.data as Record<string, unknown>).v !== `r${round}`) stale++
      }
    }
    figure({
      section: SECTION,
      name: `stale or missing reads through another node right after a write (${ROUNDS_RW} writes × 2 reads, wsrep_sync_wait=1)`,
      value: stale,
      target: '0',
    })
    expect(failed).toBe(0)
    expect(stale).toBe(0)
  })

  it('without wsrep_sync_wait a read through another node can miss the write just made (shown, not required)', async () => {
    // The same exchange on stores with syncWait: 0, straight on the store: the figure shows what
    // the default guards against. It is not asserted: whether the lag is seen depends on timing.
    const loose = NODES.map((n) => store(n, { syncWait: 0 }))
    const sessions = loose.map((s) => createSessions({ store: s }))
    let stale = 0
    const N = 300
    for (let i = 0; i < N; i++) {
      const a = sessions[i % 3] as Sessions
      const b = sessions[(i + 1) % 3] as Sessions
      const s = await a.create()
      s.data.v = i
      const { id } = await a.commit(s)
      const back = await b.load(id)
      if (back?.data.v !== i) stale++
    }
    figure({
      section: SECTION,
      name: `reads through another node that missed a write committed just before (${N} tries, syncWait 0)`,
      value: stale,
      unit: `of ${N}`,
    })
  })

  it('default mode: 32 concurrent requests × 20 rounds over three nodes, each a distinct field: none lost', async () => {
    const before = { ...retries }
    const c = balanced(apps)
    expect((await c.call('POST', '/set?name=init&value=1')).status).toBe(200)
    let failed = 0
    for (let round = 0; round < ROUNDS; round++) {
      const replies = await Promise.all(
        Array.from({ length: CONCURRENCY }, (_, i) =>
          c.clone(i).call('POST', `/set?name=f${round}_${i}&value=v${round}_${i}`),
        ),
      )
      failed += replies.filter((r) => r.status !== 200).length
      for (const bad of replies.filter((r) => r.status !== 200))
        console.log('[galera] failed:', bad.status, bad.body)
    }
    const r = await c.call('GET', '/data')
    expect(r.status).toBe(200)
    const data = r.body.data as Record<string, unknown>
    let lost = 0
    for (let round = 0; round < ROUNDS; round++)
      for (let i = 0; i < CONCURRENCY; i++) if (data[`f${round}_${i}`] !== `v${round}_${i}`) lost++
    const conflicts = (retries.conflict ?? 0) - (before.conflict ?? 0)
    figure({
      section: SECTION,
      name: 'fields lost, default mode, 32 concurrent requests × 20 rounds spread over 3 nodes',
      value: lost,
      target: '0',
    })
    figure({ section: SECTION, name: 'failed requests of those 640', value: failed, target: '0' })
    figure({
      section: SECTION,
      name: 'statements retried after a conflict during those 640',
      value: conflicts,
    })
    expect(failed).toBe(0)
    expect(lost).toBe(0)
    expect(data.init).toBe('1')
  })

  it('serialised mode: one counter incremented through three nodes, 32 concurrent × 20 rounds: none lost', async () => {
    const c = balanced(serialApps)
    expect((await c.call('POST', '/set?name=init&value=1')).status).toBe(200)
    let failed = 0
    for (let round = 0; round < ROUNDS; round++) {
      const replies = await Promise.all(
        Array.from({ length: CONCURRENCY }, (_, i) => c.clone(i).call('GET', '/count')),
      )
      failed += replies.filter((r) => r.status !== 200).length
      for (const bad of replies.filter((r) => r.status !== 200))
        console.log('[galera] failed:', bad.status, bad.body)
    }
    const r = await c.call('GET', '/data')
    const count = Number((r.body.data as Record<string, unknown>).count ?? 0)
    const lost = CONCURRENCY * ROUNDS - count
    figure({
      section: SECTION,
      name: 'counter increments lost, serialised mode, 32 concurrent × 20 rounds over 3 nodes',
      value: lost,
      target: '0',
    })
    figure({
      section: SECTION,
      name: 'failed requests of those 640 (serialised)',
      value: failed,
      target: '0',
    })
    expect(failed).toBe(0)
    expect(lost).toBe(0)
  })

  it('two nodes writing one row: certification failures at COMMIT are retried, never surfaced', async () => {
    // The same rows upserted through node 1 and node 2 at once: Galera certifies the first and
    // fails the other at COMMIT (1213). A store with one try shows the failures; the default
    // store retries them and no write fails.
    const one = [store(1, { maxAttempts: 1 }), store(2, { maxAttempts: 1 })]
    const retrying = [store(1), store(2)]
    const hammer = async (pair: SqlSessionStore[]) => {
      let failures = 0
      let other = 0
      for (let round = 0; round < 100; round++) {
        const writes = pair.flatMap((s, n) =>
          Array.from({ length: 4 }, (_, i) =>
            s.write({
              key: `hot-${i}`,
              data: new TextEncoder().encode(`n${n}-r${round}`),
              ref: null,
              mode: 'upsert',
              ttl: 3600,
            }),
          ),
        )
        for (const o of await Promise.allSettled(writes)) {
          if (o.status === 'fulfilled') continue
          const errno = (o.reason as { cause?: { errno?: unknown } }).cause?.errno
          if (isSessionError(o.reason) && errno === 1213) failures++
          else other++
        }
      }
      return { failures, other }
    }
    const before = retries.conflict ?? 0
    const bare = await hammer(one)
    const kept = await hammer(retrying)
    const retried = (retries.conflict ?? 0) - before
    figure({
      section: SECTION,
      name: 'upserts failed with 1213 at COMMIT, 2 nodes × 4 rows × 100 rounds, no retry (maxAttempts 1)',
      value: bare.failures,
      unit: 'of 800',
    })
    figure({
      section: SECTION,
      name: 'upserts failed, same load, default retries',
      value: kept.failures + kept.other,
      unit: 'of 800',
      target: '0',
    })
    figure({ section: SECTION, name: 'conflicts retried under that load', value: retried })
    expect(bare.other).toBe(0)
    expect(bare.failures).toBeGreaterThan(0)
    expect(kept.failures + kept.other).toBe(0)
    expect(retried).toBeGreaterThan(0)
  })
})
