import { createTcpProxy, describeHttpAdapter, type TcpProxy } from '@sessile/core/testing'
import { contractApp, listen } from '@sessile/express/testing'
import { afterAll } from 'vitest'
import { redisStore } from '../src/index.js'
import { dropPrefix, REDIS_URL, reachRedis, uniquePrefix } from './_helpers.js'

// The HTTP adapter suite (express + express-session) on the Redis store, with an outage made by
// cutting a TCP proxy in front of the shared Redis (never by stopping it).
const reach = await reachRedis()
const prefix = uniquePrefix()
const target = new URL(REDIS_URL)
let proxy: TcpProxy | undefined

afterAll(async () => {
  await proxy?.restore().catch(() => {})
  if (!reach.skip) await dropPrefix(REDIS_URL, prefix)
})

describeHttpAdapter('express on Redis', {
  skip: reach.skip,
  store: () => redisStore({ url: REDIS_URL, prefix }),
  start: async (sessions) => listen(contractApp(sessions).app),
  outage: {
    store: async () => {
      proxy ??= await createTcpProxy({ host: target.hostname, port: Number(target.port || 6379) })
      return redisStore({ url: proxy.url(REDIS_URL), prefix })
    },
    cut: () => proxy?.cut(),
    restore: () => proxy?.restore(),
  },
})
