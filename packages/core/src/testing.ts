/**
 * `@sessile/core/testing`: the conformance suite every store must pass, the HTTP suite every
 * framework adapter must pass (and the one for middlewares on PHP's plain cookie), and a check that
 * a package's built `exports` load. Requires vitest.
 *
 * @example
 * import { describeStore } from '@sessile/core/testing'
 * describeStore('my-store', () => new MyStore({ table: 'sessions_test' }))
 */

export { describeBuiltExports } from './testing/built-exports.js'
export { type DescribeStoreOptions, describeStore } from './testing/describe-store.js'
export {
  type DescribeHttpAdapterOptions,
  describeHttpAdapter,
  type HttpAdapterApp,
} from './testing/http-adapter.js'
export {
  type DescribeLoadBalancedOptions,
  describeLoadBalanced,
  type LoadBalancedDatabase,
} from './testing/load-balanced.js'
export {
  type DescribePlainCookieAdapterOptions,
  describePlainCookieAdapter,
} from './testing/plain-cookie-adapter.js'
export { dbUnavailable, type Reachability } from './testing/reachability.js'
export { freePort, serveLoopback } from './testing/serve.js'
export { createTcpProxy, type TcpProxy } from './testing/tcp-proxy.js'
