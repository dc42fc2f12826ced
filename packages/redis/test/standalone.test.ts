import { describeStore } from '@sessile/core/testing'
import { afterAll } from 'vitest'
import { redisStore } from '../src/index.js'
import { dropPrefix, REDIS_URL, reachRedis, uniquePrefix } from './_helpers.js'

const reach = await reachRedis()
const prefix = uniquePrefix()

afterAll(async () => {
  if (!reach.skip) await dropPrefix(REDIS_URL, prefix)
})

describeStore('redis (standalone, 16 shards)', () => redisStore({ url: REDIS_URL, prefix }), {
  skip: reach.skip,
})

const single = uniquePrefix()
afterAll(async () => {
  if (!reach.skip) await dropPrefix(REDIS_URL, single)
})

describeStore(
  'redis (standalone, 1 shard)',
  () => redisStore({ url: REDIS_URL, prefix: single, shards: 1 }),
  {
    skip: reach.skip,
  },
)
