import {
  isSessionError,
  type ListOptions,
  type ReadResult,
  SessionError,
  type SessionInfo,
  type SessionRef,
  type SessionStore,
  type StoredSession,
  storeError,
  type TouchRequest,
  validateDestroyHint,
  validateKey,
  validateLimit,
  validateRef,
  validateTouch,
  validateWrite,
  type WriteRequest,
  type WriteResult,
} from '@sessile/core'
import type { ResolvedTable } from '../table.js'
import { fromPhp, toPhp } from './translate.js'

/** A row as a dialect returns it: times as epoch ms, version as a number. */
export interface Row {
  key: string
  data: Buffer
  ref: string | null
  created: number
  modified: number
  expiry: number
  version: number
  now: number
}

/** What a dialect does in SQL; the shared part translates payloads and applies the contract. */
export interface Dialect {
  readonly name: string
  read(key: string): Promise<Row | null>
  /** Insert a row; false when a live row has the key (an expired one is replaced). */
  insert(key: string, data: Buffer, ref: string, ttl: number): Promise<boolean>
  /** Update a live row (if `version`, only while its data hash is that); null when none matched. */
  update(r: {
    key: string
    data: Buffer
    ref: string
    ttl: number
    maxAge?: number | undefined
    version?: number | undefined
    keepExpiry?: boolean | undefined
  }): Promise<{ version: number; expiry: number } | null>
  upsert(key: string, data: Buffer, ref: string, ttl: number): Promise<void>
  touch(key: string, ttl: number, maxAge?: number): Promise<boolean>
  destroy(key: string): Promise<SessionRef | null>
  sweep(limit: number): Promise<SessionRef[]>
  findByRef(ref: string): Promise<Row[]>
  destroyByRef(ref: string): Promise<SessionRef[]>
  count(): Promise<number>
  refs(limit: number): Promise<string[]>
  list(limit: number, after?: string): Promise<Row[]>
  clear(): Promise<void>
  now(): Promise<number>
  close(): Promise<void>
  /** Whether the data column holds bytes (else text, which must be UTF-8). */
  binary(): Promise<boolean>
}

const refOut = (r: string | null): string | null => (r === null || r === '' ? null : r)

/** A SessionStore over a PHP session table, given a dialect's SQL. */
export function sqlStore(t: ResolvedTable, d: Dialect, maxDataBytes: number): SessionStore {
  const source = `php-${d.name}`
  const call = async <R>(action: string, fn: () => Promise<R>): Promise<R> => {
    try {
      return await fn()
    } catch (e) {
      if (isSessionError(e)) throw e
      throw storeError(source, action, e)
    }
  }

  async function column(data: Uint8Array): Promise<Buffer> {
    const php = toPhp(source, t.codec, data)
    if (php.length > maxDataBytes)
      throw new SessionError(
        'E_TOO_LARGE',
        source,
        `PHP payload of ${php.length} bytes exceeds ${maxDataBytes}; nothing was written`,
      )
    if (!(await d.binary()) && !isUtf8(php))
      throw new SessionError(
        'E_SERIALIZE',
        source,
        `column ${t.columns.data} is text, but the PHP payload is not UTF-8 (binary strings or gzip need a binary column)`,
      )
    return php
  }

  function translate(row: Row): ReadResult | null {
    try {
      const data = fromPhp(t.codec, row.data)
      return {
        key: row.key,
        data,
        ref: refOut(row.ref),
        created: new Date(row.created),
        modified: new Date(row.modified),
        expiry: new Date(row.expiry),
        version: row.version,
        now: new Date(row.now),
      }
    } catch (e) {
      const error = isSessionError(e)
        ? e
        : new SessionError('E_DECODE', source, 'PHP payload could not be decoded', { cause: e })
      t.onDecodeError(error, row.key)
      return null
    }
  }

  const info = (row: Row): SessionInfo => ({
    key: row.key,
    ref: refOut(row.ref),
    created: new Date(row.created),
    modified: new Date(row.modified),
    expiry: new Date(row.expiry),
    version: row.version,
  })

  return {
    name: source,
    maxDataBytes,
    async read(key) {
      validateKey(source, key)
      const row = await call('read', () => d.read(key))
      return row ? translate(row) : null
    },
    async write(request: WriteRequest): Promise<WriteResult> {
      validateWrite(source, request, maxDataBytes * 4)
      const data = await column(request.data)
      const ref = request.ref ?? ''
      const ttl = t.lifetime ?? request.ttl
      if (request.mode === 'insert') {
        const ok = await call('insert', () => d.insert(request.key, data, ref, ttl))
        if (!ok) return { ok: false, reason: 'exists' }
      } else if (request.mode === 'upsert') {
        await call('upsert', () => d.upsert(request.key, data, ref, ttl))
      } else {
        const r = await call('update', () =>
          d.update({
            key: request.key,
            data,
            ref,
            ttl,
            maxAge: request.maxAge,
            version: request.version,
            keepExpiry: request.keepExpiry,
          }),
        )
        if (r) return { ok: true, version: r.version, expiry: new Date(r.expiry) }
        const live = await call('read', () => d.read(request.key))
        return { ok: false, reason: live ? 'conflict' : 'missing' }
      }
      const row = await call('read', () => d.read(request.key))
      if (!row) return { ok: false, reason: 'missing' }
      return { ok: true, version: row.version, expiry: new Date(row.expiry) }
    },
    async touch(request: TouchRequest) {
      validateTouch(source, request)
      return call('touch', () => d.touch(request.key, t.lifetime ?? request.ttl, request.maxAge))
    },
    async destroy(key, hint) {
      validateKey(source, key)
      validateDestroyHint(source, hint)
      const gone = await call('destroy', () => d.destroy(key))
      return gone && { key: gone.key, ref: refOut(gone.ref) }
    },
    async sweep(limit) {
      validateLimit(source, limit)
      const rows = await call('sweep', () => d.sweep(limit))
      return rows.map((r) => ({ key: r.key, ref: refOut(r.ref) }))
    },
    async findByRef(ref) {
      validateRef(source, ref)
      return (await call('findByRef', () => d.findByRef(ref))).map(info)
    },
    async destroyByRef(ref) {
      validateRef(source, ref)
      return (await call('destroyByRef', () => d.destroyByRef(ref))).map((r) => ({
        key: r.key,
        ref: refOut(r.ref),
      }))
    },
    count: () => call('count', () => d.count()),
    async refs(limit) {
      validateLimit(source, limit)
      return call('refs', () => d.refs(limit))
    },
    async list(options: ListOptions): Promise<StoredSession[]> {
      validateLimit(source, options.limit)
      const rows = await call('list', () => d.list(options.limit, options.after))
      const out: StoredSession[] = []
      for (const row of rows) {
        const r = translate(row)
        if (r) {
          const { now: _now, ...stored } = r
          out.push(stored)
        }
      }
      return out
    },
    clear: () => call('clear', () => d.clear()),
    now: async () => new Date(await call('now', () => d.now())),
    close: () => d.close(),
  }
}

const utf8 = new TextDecoder('utf-8', { fatal: true })
function isUtf8(b: Uint8Array): boolean {
  try {
    utf8.decode(b)
    return true
  } catch {
    return false
  }
}
