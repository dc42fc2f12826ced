import { setTimeout as sleep } from 'node:timers/promises'
import { createSessions } from '@sessile/core'
import { expiryNotifier } from '@sessile/notify'
import { afterAll, describe, expect, it } from 'vitest'
import { rowKey, shardKeys, shardOf } from '../../src/_internal/layout.js'
import { type RedisStore, redisStore } from '../../src/index.js'
import { uniquePrefix } from '../_helpers.js'
import { CLUSTER_NODES, dropClusterPrefix, rawCluster, reachCluster } from './_cluster.js'

const reach = await reachCluster()
const prefix = uniquePrefix()
const stores: RedisStore[] = []

afterAll(async () => {
  for (const s of stores) await s.close()
  if (!reach.skip) await dropClusterPrefix(prefix)
})

const appServer = () => {
  const store = redisStore({ url: CLUSTER_NODES, prefix })
  stores.push(store)
  return createSessions({ store })
}

describe.skipIf(reach.skip)('expiry notifier on the cluster', () => {
  it('3 notifiers over 10,000 expired sessions deliver each exactly once, rows Redis already dropped included', async () => {
    const servers = [appServer(), appServer(), appServer()]
    const store = servers[0]!.store
    const TOTAL = 10_000
    const expected = new Map<string, string | null>()
    for (let i = 0; i < TOTAL; i += 500) {
      await Promise.all(
        Array.from({ length: 500 }, (_, j) => {
          const key = `exp-${i + j}`
          const ref = (i + j) % 4 === 0 ? null : `user-${(i + j) % 97}`
          expected.set(key, ref)
          return store.write({ key, data: new Uint8Array([1, 2, 3]), ref, mode: 'insert', ttl: 1 })
        }),
      )
    }
    const live = Array.from({ length: 50 }, (_, i) => `live-${i}`)
    await Promise.all(
      live.map((key) =>
        store.write({ key, data: new Uint8Array([9]), ref: 'alive', mode: 'insert', ttl: 3_600_000 }),
      ),
    )

    // Let Redis's own expiry drop rows: their index entries must still be delivered.
    const raw = rawCluster()
    const sample = [...expected.keys()].slice(0, 200)
    const rowOf = (key: string) => rowKey(shardKeys(prefix, shardOf(key, 16)).tag, key)
    let present = sample.length
    for (let t = 0; t < 100 && present > 0; t++) {
      await sleep(100)
      present = (await Promise.all(sample.map((k) => raw.exists(rowOf(k))))).reduce((a, b) => a + b, 0)
    }
    raw.disconnect()
    console.log(`rows of the 200-key sample still in Redis before the sweep: ${present}`)
    expect(present).toBeLessThan(sample.length)

    const seen: { server: number; ref: string | null; key: string }[] = []
    const notifiers = servers.map((sessions, server) =>
      expiryNotifier(sessions, {
        interval: false,
        batchSize: 250,
        onExpire: (ref, key) => void seen.push({ server, ref, key }),
      }),
    )
    const results = await Promise.all(notifiers.map((n) => n.sweep()))
    await Promise.all(notifiers.map((n) => n.stop()))

    const perServer = [0, 1, 2].map((s) => seen.filter((x) => x.server === s).length)
    console.log(`deliveries per notifier: ${perServer.join(', ')} (total ${seen.length})`)
    expect(results.reduce((sum, r) => sum + r.expired, 0)).toBe(TOTAL)
    expect(seen).toHaveLength(TOTAL)
    expect(new Set(seen.map((x) => x.key)).size).toBe(TOTAL)
    for (const x of seen) expect(x.ref).toBe(expected.get(x.key))
    expect(await store.count()).toBe(live.length)
    expect((await store.findByRef('alive')).map((s) => s.key).sort()).toEqual([...live].sort())
    expect(await store.sweep(100)).toEqual([])
  })
})
