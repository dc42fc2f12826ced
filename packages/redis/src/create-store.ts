import { SessionError } from '@sessile/core'
import { parseUrls } from './_internal/connect.js'
import type { RedisStoreOptions } from './options.js'
import { RedisStore } from './store.js'

/** Options of {@link createStore}: every store option but `url` and `client`, which the URL replaces. */
export type CreateStoreOptions = Omit<RedisStoreOptions, 'url' | 'client'>

/**
 * A store for the Redis a URL names, like the SQL `createStore` of `@sessile/drizzle`:
 * `redis://` or `rediss://` (TLS) for one Redis; several URLs, comma-separated or as an array
 * (or one URL with `cluster: true`), for a Redis Cluster. Any other scheme is refused with
 * `E_OPTION`.
 *
 * @example
 * import { createSessions } from '@sessile/core'
 * import { createStore } from '@sessile/redis'
 * const sessions = createSessions({ store: createStore(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379') })
 */
export function createStore(url: string | string[], options: CreateStoreOptions = {}): RedisStore {
  if (typeof options !== 'object' || options === null) {
    throw new SessionError('E_OPTION', 'redis', 'options must be an object')
  }
  if (typeof url === 'string' && !/^rediss?:\/\//i.test(url.trim())) {
    const scheme = /^([a-z][a-z0-9+.-]*):/i.exec(url)?.[1]
    throw new SessionError(
      'E_OPTION',
      'redis',
      `createStore takes redis:// or rediss:// URLs, not ${JSON.stringify(scheme ?? url.slice(0, 20))}` +
        ' (SQL URLs go to createStore of @sessile/drizzle)',
    )
  }
  const urls = parseUrls(url)
  return new RedisStore({ ...options, url: urls })
}
