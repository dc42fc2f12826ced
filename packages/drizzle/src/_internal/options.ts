import { SessionError } from '@sessile/core'
import type { SqlStoreOptions } from '../options.js'

export const DEFAULT_TABLE = 'sessions'
export const DEFAULT_MAX_DATA_BYTES = 16 * 1024 * 1024

export interface ResolvedSqlOptions {
  table: string
  createTable: boolean
  maxDataBytes: number
  lanes: number
}

export function optionError(source: string, message: string): SessionError {
  return new SessionError('E_OPTION', source, message)
}

/** Shared option checks; `maxTableBytes` and `hardMaxBytes` are the dialect's physical limits. */
export function resolveSqlOptions(
  source: string,
  options: SqlStoreOptions,
  limits: { maxTableBytes: number; hardMaxBytes: number },
): ResolvedSqlOptions {
  if (typeof options !== 'object' || options === null) throw optionError(source, 'options must be an object')
  const table = options.table ?? DEFAULT_TABLE
  if (
    typeof table !== 'string' ||
    table.length === 0 ||
    table.includes('\u0000') ||
    Buffer.byteLength(table, 'utf8') > limits.maxTableBytes
  ) {
    throw optionError(
      source,
      `table must be a string of 1 to ${limits.maxTableBytes} bytes without NUL, got ${JSON.stringify(table)}`,
    )
  }
  const createTable = options.createTable ?? true
  if (typeof createTable !== 'boolean') throw optionError(source, 'createTable must be a boolean')
  const maxDataBytes = options.maxDataBytes ?? DEFAULT_MAX_DATA_BYTES
  if (
    typeof maxDataBytes !== 'number' ||
    !Number.isInteger(maxDataBytes) ||
    maxDataBytes < 1 ||
    maxDataBytes > limits.hardMaxBytes
  ) {
    throw optionError(source, `maxDataBytes must be a whole number from 1 to ${limits.hardMaxBytes}`)
  }
  const lanes = options.lanes ?? 2
  if (lanes !== Number.POSITIVE_INFINITY && (!Number.isInteger(lanes) || lanes < 1)) {
    throw optionError(source, 'lanes must be a whole number of at least 1, or Infinity')
  }
  return { table, createTable, maxDataBytes, lanes }
}
