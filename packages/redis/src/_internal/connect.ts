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

interface Node {
  status?: unknown
  stream?: Partial<Corkable>
}

const ready = (n: Node): Corkable | undefined =>
  n.status === 'ready' && typeof n.stream?.cork === 'function' && typeof n.stream.uncork === 'function'
    ? (n.stream as Corkable)
    : undefined

/**
 * The sockets to cork so that commands sent together to one slot leave in one write: a standalone
 * client's own, or every ready master's of a cluster (the commands go to one of them; corking the
 * others costs nothing). Commands are written at once only by a ready client; one that is not
 * ready queues them, and is left alone.
 */
export function socketsOf(client: RedisClient): Corkable[] {
  const c = client as unknown as Node & { isCluster?: unknown; nodes?: (role: 'master') => Node[] }
  if (c.isCluster !== true) {
    const s = ready(c)
    return s ? [s] : []
  }
  if (c.status !== 'ready' || typeof c.nodes !== 'function') return []
  const out: Corkable[] = []
  for (const n of c.nodes('master')) {
    const s = ready(n)
    if (s) out.push(s)
  }
  return out
}
