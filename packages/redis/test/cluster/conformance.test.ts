import { describeStore } from '@sessile/core/testing'
import { afterAll } from 'vitest'
import { redisStore } from '../../src/index.js'
import { uniquePrefix } from '../_helpers.js'
import { CLUSTER_NODES, dropClusterPrefix, reachCluster } from './_cluster.js'

const reach = await reachCluster()
const prefix = uniquePrefix()

afterAll(async () => {
  if (!reach.skip) await dropClusterPrefix(prefix)
})

describeStore('redis (cluster, 3 masters + 3 replicas)', () => redisStore({ url: CLUSTER_NODES, prefix }), {
  skip: reach.skip,
})
