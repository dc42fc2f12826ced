import { dbUnavailable } from '@sessile/core/testing'
import { Cluster } from 'ioredis'

/** Seed URLs of the loopback cluster that scripts/cluster.sh started. */
export const CLUSTER_NODES = (process.env.REDIS_CLUSTER_NODES ?? '').split(',').filter((u) => u !== '')

const seeds = () =>
  CLUSTER_NODES.map((u) => {
    const p = new URL(u)
    return { host: p.hostname, port: Number(p.port) }
  })

/** A raw ioredis cluster client for the tests' own checks. */
export const rawCluster = (): Cluster => new Cluster(seeds())

/** Skip loudly when no cluster runs locally; fail with CI=true. */
export async function reachCluster() {
  if (CLUSTER_NODES.length === 0) {
    return dbUnavailable(
      'Redis Cluster',
      new Error('REDIS_CLUSTER_NODES is not set: run `pnpm --filter @sessile/redis test:cluster`'),
    )
  }
  const c = new Cluster(seeds(), { clusterRetryStrategy: () => null })
  c.on('error', () => {})
  try {
    const info = (await c.cluster('INFO')) as string
    if (!info.includes('cluster_state:ok')) throw new Error(`cluster is not ok: ${info.split('\r\n')[0]}`)
    return dbUnavailable('Redis Cluster', null)
  } catch (error) {
    return dbUnavailable('Redis Cluster', error)
  } finally {
    c.disconnect()
  }
}

/** Delete every key under `prefix` on every master (SCAN + UNLINK one key at a time: slots differ). */
export async function dropClusterPrefix(prefix: string): Promise<void> {
  const c = rawCluster()
  try {
    for (const node of c.nodes('master')) {
      let cursor = '0'
      do {
        const [next, keys] = await node.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000)
        cursor = next
        if (keys.length > 0) {
          const p = node.pipeline()
          for (const k of keys) p.unlink(k)
          await p.exec()
        }
      } while (cursor !== '0')
    }
  } finally {
    c.disconnect()
  }
}
