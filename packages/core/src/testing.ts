/**
 * `@sessile/core/testing`: the conformance suite every store must pass, and a check that a
 * package's built `exports` load. Requires vitest.
 *
 * @example
 * import { describeStore } from '@sessile/core/testing'
 * describeStore('my-store', () => new MyStore({ table: 'sessions_test' }))
 */

export { describeBuiltExports } from './testing/built-exports.js'
export { type DescribeStoreOptions, describeStore } from './testing/describe-store.js'
export { dbUnavailable, type Reachability } from './testing/reachability.js'
