import type { Cluster, ClusterOptions, Redis, RedisOptions } from 'ioredis'

/** An ioredis client: one Redis or a cluster. */
export type RedisClient = Redis | Cluster

/** Options of {@link redisStore}. */
export interface RedisStoreOptions {
  /**
   * A `redis://` or `rediss://` URL (`redis://user:pass@host:6379/0`). Several URLs, or
   * `cluster: true`, name a Redis Cluster (the URLs are its seed nodes).
   * @default 'redis://127.0.0.1:6379' when neither `url` nor `client` is given
   */
  url?: string | string[]
  /**
   * Treat `url` as the seed of a Redis Cluster even when it names one host.
   * @default false (true when `url` lists several hosts)
   */
  cluster?: boolean
  /**
   * An ioredis `Redis` or `Cluster` you made and keep: the store uses it and never closes it.
   * @default undefined (the store makes its own client from `url` and closes it on `close()`)
   */
  client?: RedisClient
  /**
   * Prefix of every Redis key the store writes; no braces or spaces. Two stores with the same
   * prefix share their sessions.
   * @default 'sessile:'
   */
  prefix?: string
  /**
   * Number of index shards. Each shard's keys share one hash tag (one cluster slot), so a sweep or
   * a query is one script per shard. Every app server sharing the prefix must use the same number.
   * @default 16
   */
  shards?: number
  /**
   * Largest payload accepted, in bytes (Redis itself takes up to 512 MiB).
   * @default 16 MiB
   */
  maxDataBytes?: number
  /**
   * Check `maxmemory-policy` on the first command and warn when Redis may evict sessions silently
   * (any policy but `noeviction`). Called with the message; `false` turns the check off.
   * @default console.warn
   */
  onWarning?: ((message: string) => void) | false
  /**
   * Extra ioredis options for the client the store makes (ignored with `client`). The store sets
   * `maxRetriesPerRequest: 3`, so a request fails fast with `E_STORE` while Redis is down (the
   * client keeps reconnecting); pass your own value to change it.
   * @default { maxRetriesPerRequest: 3 }
   */
  redisOptions?: RedisOptions
  /** Extra ioredis cluster options for the cluster client the store makes. @default {} */
  clusterOptions?: ClusterOptions
}
