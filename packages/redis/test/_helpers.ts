import { randomBytes } from 'node:crypto'
import { dbUnavailable } from '@sessile/core/testing'
import { Redis } from 'ioredis'

export const REDIS_URL = process.env.SESSILE_REDIS_URL ?? 'redis://127.0.0.1:6379/0'

/** A prefix of this run only: tests share the machine's Redis and delete only their own keys. */
export const uniquePrefix = (): string => `sessile-test-${randomBytes(6).toString('hex')}:`

/** Skip loudly when Redis is down locally; fail with CI=true. */
export async function reachRedis(url = REDIS_URL) {
  const probe = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null })
  probe.on('error', () => {})
  try {
    await probe.connect()
    await probe.ping()
    return dbUnavailable('Redis', null)
  } catch (error) {
    return dbUnavailable('Redis', error)
  } finally {
    probe.disconnect()
  }
}

/** Delete every key under `prefix` (SCAN + UNLINK on one node), never FLUSHDB. */
export async function dropPrefix(url: string, prefix: string): Promise<void> {
  const r = new Redis(url)
  try {
    let cursor = '0'
    do {
      const [next, keys] = await r.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000)
      cursor = next
      if (keys.length > 0) await r.unlink(...keys)
    } while (cursor !== '0')
  } finally {
    r.disconnect()
  }
}
