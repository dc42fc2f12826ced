import type { SqlStoreOptions } from '../../options.js'
import { optionError, resolveSqlOptions } from '../options.js'
import type { PgStoreConfig } from './store.js'

// PostgreSQL cuts identifiers at 63 bytes; a bytea holds just under 1 GiB.
const PG_LIMITS = { maxTableBytes: 63, hardMaxBytes: 1024 * 1024 * 1024 - 1 }

/** The option checks `pgStore` and `pgliteStore` share: the common ones, then `schema`. */
export function resolvePgOptions(
  source: string,
  options: SqlStoreOptions & { schema?: string },
): PgStoreConfig {
  const resolved = resolveSqlOptions(source, options, PG_LIMITS)
  const schema = options.schema
  if (
    schema !== undefined &&
    (typeof schema !== 'string' || schema.length === 0 || schema.includes('\u0000'))
  ) {
    throw optionError(source, 'schema must be a non-empty string without NUL')
  }
  return { ...resolved, schema }
}
