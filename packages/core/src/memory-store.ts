import { copyBytes } from './_internal/bytes.js'
import {
  validateDestroyHint,
  validateKey,
  validateLease,
  validateLimit,
  validateRef,
  validateToken,
  validateTouch,
  validateWrite,
} from './_internal/validate.js'
import type {
  DestroyHint,
  LeaseRequest,
  LeaseResult,
  ListOptions,
  ReadResult,
  SessionInfo,
  SessionRef,
  SessionStore,
  StoredSession,
  TouchRequest,
  WriteRequest,
  WriteResult,
} from './store.js'

export interface MemoryStoreOptions {
  /**
   * The clock of this store, in ms since the epoch. Tests move it to simulate time or skew.
   * @default Date.now
   */
  clock?: () => number
  /**
   * Largest payload accepted, in bytes.
   * @default 16 MiB
   */
  maxDataBytes?: number
}

interface Row {
  data: Uint8Array
  ref: string | null
  created: number
  modified: number
  expiry: number
  version: number
  lease: string | null
  leaseExpiry: number
}

const NAME = 'memory'

/**
 * A store in process memory, for tests and development. It passes the same conformance suite as
 * the SQL stores, but sessions live only as long as the process and are not shared between servers.
 *
 * @example
 * const sessions = createSessions({ store: new MemoryStore() })
 */
export class MemoryStore implements SessionStore {
  readonly name = NAME
  readonly maxDataBytes: number
  readonly #rows = new Map<string, Row>()
  readonly #clock: () => number

  constructor(options: MemoryStoreOptions = {}) {
    this.#clock = options.clock ?? Date.now
    this.maxDataBytes = options.maxDataBytes ?? 16 * 1024 * 1024
  }

  #live(key: string, now: number): Row | undefined {
    const row = this.#rows.get(key)
    return row && row.expiry > now ? row : undefined
  }

  #expiry(now: number, created: number, ttl: number, maxAge: number | undefined): number {
    const idle = now + ttl
    return maxAge === undefined ? idle : Math.min(idle, created + maxAge)
  }

  async read(key: string): Promise<ReadResult | null> {
    validateKey(NAME, key)
    const now = this.#clock()
    const row = this.#live(key, now)
    return row ? { ...toSession(key, row), now: new Date(now) } : null
  }

  async write(req: WriteRequest): Promise<WriteResult> {
    validateWrite(NAME, req, this.maxDataBytes)
    const now = this.#clock()
    const existing = this.#rows.get(req.key)
    const live = existing && existing.expiry > now ? existing : undefined
    if (req.mode === 'insert' && existing) return { ok: false, reason: 'exists' }
    if (req.mode === 'update' && !live) return { ok: false, reason: 'missing' }
    if (req.version !== undefined && live && live.version !== req.version)
      return { ok: false, reason: 'conflict' }
    const base = req.mode === 'upsert' ? live : existing
    const created = base ? base.created : now
    const held = base && base.lease !== req.lease ? base : undefined
    const row: Row = {
      data: copyBytes(req.data),
      ref: req.ref,
      created,
      modified: now,
      expiry:
        req.mode === 'update' && req.keepExpiry === true && live
          ? live.expiry
          : this.#expiry(now, created, req.ttl, req.maxAge),
      version: (base?.version ?? 0) + 1,
      lease: held?.lease ?? null,
      leaseExpiry: held?.leaseExpiry ?? 0,
    }
    this.#rows.set(req.key, row)
    return { ok: true, version: row.version, expiry: new Date(row.expiry) }
  }

  async touch(req: TouchRequest): Promise<boolean> {
    validateTouch(NAME, req)
    const now = this.#clock()
    const row = this.#live(req.key, now)
    if (!row) return false
    row.expiry = this.#expiry(now, row.created, req.ttl, req.maxAge)
    if (req.lease !== undefined && row.lease === req.lease) row.lease = null
    return true
  }

  async lease(req: LeaseRequest): Promise<LeaseResult> {
    validateLease(NAME, req)
    const now = this.#clock()
    const row = this.#live(req.key, now)
    if (!row) return { ok: false, reason: 'missing' }
    if (row.lease !== null && row.lease !== req.token && row.leaseExpiry > now) {
      return { ok: false, reason: 'held', wait: row.leaseExpiry - now }
    }
    row.lease = req.token
    row.leaseExpiry = now + req.ttl
    return { ok: true, row: { ...toSession(req.key, row), now: new Date(now) } }
  }

  async release(key: string, token: string): Promise<boolean> {
    validateKey(NAME, key)
    validateToken(NAME, token)
    const row = this.#rows.get(key)
    if (!row || row.lease !== token) return false
    row.lease = null
    return row.leaseExpiry > this.#clock()
  }

  // The hint saves nothing here: the row (and its ref) is at hand.
  async destroy(key: string, hint?: DestroyHint): Promise<SessionRef | null> {
    validateKey(NAME, key)
    validateDestroyHint(NAME, hint)
    const row = this.#rows.get(key)
    if (!row) return null
    this.#rows.delete(key)
    return { key, ref: row.ref }
  }

  async sweep(limit: number): Promise<SessionRef[]> {
    validateLimit(NAME, limit)
    const now = this.#clock()
    const out: SessionRef[] = []
    for (const [key, row] of this.#rows) {
      if (out.length >= limit) break
      if (row.expiry <= now) {
        this.#rows.delete(key)
        out.push({ key, ref: row.ref })
      }
    }
    return out
  }

  async findByRef(ref: string): Promise<SessionInfo[]> {
    validateRef(NAME, ref)
    const now = this.#clock()
    const out: SessionInfo[] = []
    for (const [key, row] of this.#rows) {
      if (row.ref === ref && row.expiry > now) {
        const { data: _data, ...info } = toSession(key, row)
        out.push(info)
      }
    }
    return out.sort((a, b) => a.created.getTime() - b.created.getTime() || cmp(a.key, b.key))
  }

  async destroyByRef(ref: string): Promise<SessionRef[]> {
    validateRef(NAME, ref)
    const out: SessionRef[] = []
    for (const [key, row] of this.#rows) {
      if (row.ref === ref) {
        this.#rows.delete(key)
        out.push({ key, ref })
      }
    }
    return out
  }

  async count(): Promise<number> {
    const now = this.#clock()
    let n = 0
    for (const row of this.#rows.values()) if (row.expiry > now) n++
    return n
  }

  async refs(limit: number): Promise<string[]> {
    validateLimit(NAME, limit)
    const now = this.#clock()
    const set = new Set<string>()
    for (const row of this.#rows.values()) if (row.ref !== null && row.expiry > now) set.add(row.ref)
    return [...set].sort(cmp).slice(0, limit)
  }

  async list(options: ListOptions): Promise<StoredSession[]> {
    validateLimit(NAME, options?.limit)
    if (options.after !== undefined) validateKey(NAME, options.after)
    const now = this.#clock()
    const keys = [...this.#rows.keys()].sort(cmp)
    const out: StoredSession[] = []
    for (const key of keys) {
      if (out.length >= options.limit) break
      if (options.after !== undefined && cmp(key, options.after) <= 0) continue
      const row = this.#rows.get(key) as Row
      if (row.expiry > now) out.push(toSession(key, row))
    }
    return out
  }

  async clear(): Promise<void> {
    this.#rows.clear()
  }

  async now(): Promise<Date> {
    return new Date(this.#clock())
  }

  async close(): Promise<void> {}
}

// Binary order of UTF-8, the order a SQL store with a binary key column gives.
function cmp(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'))
}

function toSession(key: string, row: Row): StoredSession {
  return {
    key,
    data: copyBytes(row.data),
    ref: row.ref,
    created: new Date(row.created),
    modified: new Date(row.modified),
    expiry: new Date(row.expiry),
    version: row.version,
  }
}
