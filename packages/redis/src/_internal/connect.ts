import { SessionError } from '@sessile/core'
import { Cluster, Redis } from 'ioredis'
import type { RedisClient, RedisStoreOptions } from '../options.js'

const SOURCE = 'redis'

/** Split `'redis://a:1,redis://b:2'` or an array into URLs, checking each scheme. */
export function parseUrls(url: string | string[]): string[] {
  const list: unknown[] = Array.isArray(url) ? url : typeof url === 'string' ? url.split(',') : [url]
  if (list.length === 0 || list.some((u) => typeof u !== 'string' || !/^rediss?:\/\/[^/]/i.test(u.trim()))) {
    throw new SessionError(
      'E_OPTION',
      SOURCE,
      'url must be a redis:// or rediss:// URL, or several of them for a cluster',
    )
  }
  return (list as string[]).map((u) => u.trim())
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
    const parsed = urls.map((u) => {
      try {
        return new URL(u)
      } catch {
        throw new SessionError('E_OPTION', SOURCE, `cannot parse the cluster node URL ${JSON.stringify(u)}`)
      }
    })
    const first = parsed[0] as URL
    const tls = first.protocol === 'rediss:'
    const auth = {
      ...(first.username ? { username: decodeURIComponent(first.username) } : {}),
      ...(first.password ? { password: decodeURIComponent(first.password) } : {}),
    }
    const nodes = parsed.map((p) => ({ host: p.hostname, port: p.port ? Number(p.port) : 6379 }))
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
  // A request should fail fast with E_STORE while Redis is down, not wait in the offline queue
  // through 20 reconnect attempts; the client keeps reconnecting in the background all the same.
  const client = new Redis(urls[0] as string, { maxRetriesPerRequest: 3, ...options.redisOptions })
  return { client, owned: true }
}

interface Corkable {
  cork(): void
  uncork(): void
}

/**
 * The socket of a standalone client that writes each command at once (status `ready`), so that
 * commands sent together can be corked into one write. A cluster client routes each command to a
 * node's own socket, and a client that is not ready queues commands: both are left alone.
 */
export function socketOf(client: RedisClient): Corkable | undefined {
  const c = client as unknown as { status?: unknown; stream?: Partial<Corkable> }
  const stream = c.status === 'ready' ? c.stream : undefined
  return typeof stream?.cork === 'function' && typeof stream.uncork === 'function'
    ? (stream as Corkable)
    : undefined
}
