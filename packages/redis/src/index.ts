// The store
export { type CreateStoreOptions, createStore } from './create-store.js'
export type { RedisClient, RedisStoreOptions } from './options.js'
export { RedisStore, redisStore } from './store.js'
