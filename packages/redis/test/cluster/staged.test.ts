import type { Cluster } from 'ioredis'
import { afterAll, describe, expect, it } from 'vitest'
import { redisStore } from '../../src/index.js'
import { countWrites, uniquePrefix } from '../_helpers.js'
import { CLUSTER_NODES, dropClusterPrefix, reachCluster } from './_cluster.js'

const reach = await reachCluster()
const prefix = uniquePrefix()
afterAll(async () => {
  if (!reach.skip) await dropClusterPrefix(prefix)
})

describe.skipIf(reach.skip)('staged writes on a cluster', () => {
  it("a staged payload and its script leave in one write to the slot's master", async () => {
    // No eviction check: its commands to every master would land among the counted writes.
    const store = redisStore({ url: CLUSTER_NODES, prefix, onWarning: false })
    const key = 'c'.repeat(43)
    const data = new TextEncoder().encode(`{"n":"${'d'.repeat(5000)}"}`)
    const restore: (() => void)[] = []
    try {
      expect(await store.write({ key, data, ref: null, mode: 'insert', ttl: 60_000 })).toMatchObject({
        ok: true,
      })
      // Every connected master's socket, counted (the insert connected the slot's master): the update
      // must reach one of them, in one write.
      const writes = new Map<number, number[]>()
      for (const node of (store.client as Cluster).nodes('master')) {
        // A node the failover suite restarted may not be connected again: it takes no write.
        const socket = node.stream
        if (!socket) continue
        const counted = countWrites(socket)
        writes.set(node.options.port ?? 0, counted.writes)
        restore.push(counted.restore)
      }
      expect(await store.write({ key, data, ref: null, mode: 'update', ttl: 60_000 })).toMatchObject({
        ok: true,
      })
      const used = [...writes.values()].filter((w) => w.length > 0)
      expect(used).toEqual([[2]])
      expect(Buffer.from((await store.read(key))?.data ?? []).equals(Buffer.from(data))).toBe(true)
    } finally {
      for (const r of restore) r()
      await store.close()
    }
  })
})
