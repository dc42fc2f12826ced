import { Cluster } from 'ioredis'
import type { RedisClient } from '../options.js'

/**
 * Warn when Redis may evict sessions without telling anyone. `volatile-*` policies evict rows
 * (they carry a TTL) before they expire; `allkeys-*` also evicts the indexes. Managed Redis
 * services often refuse CONFIG: then nothing can be said, and nothing is warned.
 */
export async function checkEviction(client: RedisClient, warn: (message: string) => void): Promise<void> {
  // A cluster knows its masters only once it has loaded the slot map.
  if (client instanceof Cluster && client.status !== 'ready') {
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, 10_000).unref()
      client.once('ready', () => {
        clearTimeout(timer)
        resolve()
      })
    })
  }
  const nodes = client instanceof Cluster ? client.nodes('master') : [client]
  for (const node of nodes) {
    let policy: string | undefined
    try {
      const reply = (await node.call('CONFIG', 'GET', 'maxmemory-policy')) as string[]
      policy = reply[1]
    } catch {
      return
    }
    if (policy !== undefined && policy !== 'noeviction') {
      const where = `${node.options.host ?? '?'}:${node.options.port ?? '?'}`
      warn(
        `[sessile] [redis] maxmemory-policy is ${policy} on ${where}: when Redis reaches maxmemory it may evict ` +
          `sessions before they expire${policy.startsWith('allkeys') ? ' and the expiry and ref indexes' : ''}, ` +
          'logging users out silently. Use noeviction (writes then fail with E_STORE) or size Redis for the peak.',
      )
      return
    }
  }
}
