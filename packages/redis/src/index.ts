// The store

export type { RedisClient, RedisStoreOptions } from './options.js'
export { RedisStore, redisStore } from './store.js'
