import { fileURLToPath } from 'node:url'
import { describeLoadBalanced } from '@sessile/core/testing'
import { loadBalancedDatabases } from '@sessile/drizzle/testing'

describeLoadBalanced('koa', {
  script: fileURLToPath(new URL('./fixtures/server.mjs', import.meta.url)),
  databases: await loadBalancedDatabases(),
})
