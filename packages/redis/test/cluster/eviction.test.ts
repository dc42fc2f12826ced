import { afterAll, describe, expect, it } from 'vitest'
import { redisStore } from '../../src/index.js'
import { uniquePrefix } from '../_helpers.js'
import { CLUSTER_NODES, dropClusterPrefix, rawCluster, reachCluster } from './_cluster.js'

const reach = await reachCluster()
const prefix = uniquePrefix()
afterAll(async () => {
  if (!reach.skip) await dropClusterPrefix(prefix)
})

describe.skipIf(reach.skip)('maxmemory-policy on a cluster', () => {
  it('checks every master once the slot map is loaded, and warns about the one that may evict', async () => {
    const raw = rawCluster()
    await raw.cluster('INFO')
    const master = raw.nodes('master')[1]!
    await master.config('SET', 'maxmemory-policy', 'volatile-lru')
    const warnings: string[] = []
    const store = redisStore({ url: CLUSTER_NODES, prefix, onWarning: (m) => warnings.push(m) })
    try {
      await store.count()
      for (let i = 0; i < 100 && warnings.length === 0; i++) await new Promise((r) => setTimeout(r, 20))
      expect(warnings).toHaveLength(1)
      expect(warnings[0]).toMatch(/volatile-lru/)
      expect(warnings[0]).toContain(`:${master.options.port}`)
      expect(warnings[0]).not.toMatch(/indexes/)
    } finally {
      // This cluster is the suite's own (scripts/cluster.sh): put its policy back.
      await master.config('SET', 'maxmemory-policy', 'noeviction')
      await store.close()
      raw.disconnect()
    }
  })
})
