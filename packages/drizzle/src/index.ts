/**
 * `@sessile/drizzle`: SQL session stores on Drizzle ORM. This entry imports no driver; the
 * dialects live in `@sessile/drizzle/pg`, `/mysql`, `/pglite` and `/sqlite`.
 */

// Pick the dialect from a URL

export {
  type CreateStoreOptions,
  createStore,
  type Dialect,
  type ParsedStoreUrl,
  parseStoreUrl,
} from './create-store.js'

// Shared options and the store type

export type { SqlSessionStore, SqlStoreOptions } from './options.js'
