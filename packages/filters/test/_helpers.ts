import { randomBytes } from 'node:crypto'
import {
  builtinDecoders,
  createSessions,
  decodeEnvelope,
  encodeEnvelope,
  type Filter,
  MemoryStore,
  type SessionData,
  type SessionError,
  type Sessions,
  type SessionsOptions,
} from '@sessile/core'

export const MiB = 1024 * 1024

/** A fresh random 32-byte key. */
export const newKey = (): Buffer => randomBytes(32)

/** What the manager would use to decode: the always-present built-ins, then the configured filters. */
export function decodersOf(filters: readonly Filter[], extra: readonly Filter[] = []): Map<string, Filter> {
  const map = new Map<string, Filter>()
  for (const f of [...builtinDecoders, ...extra, ...filters]) map.set(f.id, f)
  return map
}

export function encode(
  filters: readonly Filter[],
  plain: Uint8Array,
  key = 'session-key',
  maxSize = 2 * MiB,
) {
  return encodeEnvelope(filters, plain, key, maxSize)
}

export async function decode(
  filters: readonly Filter[],
  payload: Uint8Array,
  key = 'session-key',
  maxSize = 2 * MiB,
): Promise<Uint8Array> {
  return (await decodeEnvelope(payload, key, decodersOf(filters), filters, maxSize)).plaintext
}

export interface Harness<T extends SessionData = SessionData> {
  sessions: Sessions<T>
  store: MemoryStore
  decodeErrors: { key: string; error: SessionError }[]
}

/** A manager over a real MemoryStore that records every decodeError event. */
export function harness<T extends SessionData = SessionData>(
  filters: readonly Filter[],
  store = new MemoryStore(),
  more: Partial<SessionsOptions<T>> = {},
): Harness<T> {
  const sessions = createSessions<T>({ store, filters, ...more })
  const decodeErrors: Harness['decodeErrors'] = []
  sessions.on('decodeError', (e) => {
    decodeErrors.push(e)
  })
  return { sessions, store, decodeErrors }
}

/** Store `data` as a new session; returns its id and storage key. */
export async function save<T extends SessionData>(
  h: Harness<T>,
  data: T,
): Promise<{ id: string; key: string }> {
  const s = h.sessions.create(data)
  const r = await h.sessions.commit(s)
  if (r.write !== 'insert') throw new Error(`expected an insert, got ${r.write}`)
  return { id: r.id, key: h.sessions.keyOf(r.id) }
}

/** The raw bytes the store holds for a key. */
export async function rawRow(store: MemoryStore, key: string): Promise<Buffer> {
  const row = await store.read(key)
  if (!row) throw new Error(`no row for ${key}`)
  return Buffer.from(row.data)
}

/** Put bytes into a row directly, as someone with write access to the table could. */
export async function plant(store: MemoryStore, key: string, data: Uint8Array): Promise<void> {
  const r = await store.write({ key, data, ref: null, mode: 'upsert', ttl: 60_000 })
  if (!r.ok) throw new Error('plant failed')
}

/** A compressible JSON-like payload of about `size` bytes. */
export function jsonLike(size: number, seed = 1): Uint8Array {
  const parts: string[] = []
  let n = seed
  let length = 2
  while (length < size) {
    n = (n * 1103515245 + 12345) & 0x7fffffff
    const item = `{"id":${n % 100000},"user":"user-${n % 977}","role":"${['admin', 'editor', 'viewer'][n % 3]}","seen":${1700000000000 + (n % 86400000)},"tags":["a${n % 13}","b${n % 7}"]}`
    parts.push(item)
    length += item.length + 1
  }
  return Buffer.from(`[${parts.join(',')}]`.slice(0, Math.max(2, size)), 'utf8')
}
