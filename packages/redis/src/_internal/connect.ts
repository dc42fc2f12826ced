import { SessionError } from '@sessile/core'
import { Cluster, Redis } from 'ioredis'
import type { RedisClient, RedisStoreOptions } from '../options.js'

const SOURCE = 'redis'

/** Split `'redis://a:1,redis://b:2'` or an array into URLs, checking each scheme. */
export function parseUrls(url: string | string[]): string[] {
  const list = (Array.isArray(url) ? url : url.split(',')).map((u) => (typeof u === 'string' ? u.trim() : u))
  if (list.length === 0 || list.some((u) => typeof u !== 'string' || !/^rediss?:\/\/[^/]/i.test(u))) {
    throw new SessionError(
      'E_OPTION',
      SOURCE,
      'url must be a redis:// or rediss:// URL, or several of them for a cluster',
    )
  }
  return list
}

/** Make the client the options ask for; `owned` says whether the store must close it. */
export function makeClient(options: RedisStoreOptions): { client: RedisClient; owned: boolean } {
  if (options.client !== undefined) {
    const c = options.client as unknown as { evalsha?: unknown; status?: unknown }
    if (typeof c !== 'object' || c === null || typeof c.evalsha !== 'function') {
      throw new SessionError('E_OPTION', SOURCE, 'client must be an ioredis Redis or Cluster instance')
    }
    return { client: options.client, owned: false }
  }
  const urls = parseUrls(options.url ?? 'redis://127.0.0.1:6379')
  if (urls.length > 1 || options.cluster === true) {
    const first = new URL(urls[0] as string)
    const tls = first.protocol === 'rediss:'
    const auth = {
      ...(first.username ? { username: decodeURIComponent(first.username) } : {}),
      ...(first.password ? { password: decodeURIComponent(first.password) } : {}),
    }
    const nodes = urls.map((u) => {
      const p = new URL(u)
      return { host: p.hostname, port: p.port ? Number(p.port) : 6379 }
    })
    const cluster = new Cluster(nodes, {
      ...options.clusterOptions,
      redisOptions: {
        ...auth,
        ...(tls ? { tls: {} } : {}),
        ...options.clusterOptions?.redisOptions,
      },
    })
    return { client: cluster, owned: true }
  }
  return { client: new Redis(urls[0] as string, { ...options.redisOptions }), owned: true }
}
