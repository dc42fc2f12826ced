import type { ReadResult, SessionInfo, SessionRef, WriteRequest, WriteResult } from '@sessile/core'
import { toBytes, toDate, toInt, toNullableText, toText } from './values.js'

/** A result row as any driver hands it back: column name to value. */
export type Row = Record<string, unknown>

/** A read (or lease) row of either dialect: the stored columns plus the store clock `now`. */
export function toReadResult(key: string, row: Row): ReadResult {
  return {
    key,
    data: toBytes(row.data),
    ref: toNullableText(row.ref),
    created: toDate(row.created),
    modified: toDate(row.modified),
    expiry: toDate(row.expiry),
    version: toInt(row.version),
    now: toDate(row.now),
  }
}

/**
 * Why an update matched no row, from a second look for the live row: it is there, so a version
 * check failed (the row moved on), or it is gone (expired, destroyed).
 */
export function updateMissed(live: boolean, req: WriteRequest): WriteResult {
  return { ok: false, reason: live && req.version !== undefined ? 'conflict' : 'missing' }
}

export function toRef(row: Row): SessionRef {
  return { key: toText(row.key), ref: toNullableText(row.ref) }
}

export function toInfo(row: Row): SessionInfo {
  return {
    key: toText(row.key),
    ref: toNullableText(row.ref),
    created: toDate(row.created),
    modified: toDate(row.modified),
    expiry: toDate(row.expiry),
    version: toInt(row.version),
  }
}
