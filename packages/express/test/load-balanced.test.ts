import { fileURLToPath } from 'node:url'
import { describeLoadBalanced } from '@sessile/core/testing'
import { loadBalancedDatabases } from '@sessile/drizzle/testing'

describeLoadBalanced('express', {
  script: fileURLToPath(new URL('./fixtures/server.mjs', import.meta.url)),
  databases: await loadBalancedDatabases(),
})
