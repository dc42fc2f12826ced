import { SessionError } from '@sessile/core'

/**
 * Where a session and its index entries live. A key belongs to one of `shards` shards; every
 * Redis key of a shard carries the same hash tag, so on a cluster each script touches one slot.
 */
export interface ShardKeys {
  /** The shard's key prefix, hash tag included: `sessile:{7}`. */
  tag: string
  /** Expiry index: sorted set, member = session key, score = expiry (ms, Redis clock). */
  exp: string
  /** Key index: sorted set, score 0, for `list` in binary key order. */
  keys: string
  /** Ref of each indexed session (hash key -> ref); it outlives the row's own TTL for the sweep. */
  refOf: string
  /** Refs with at least one indexed session in the shard: sorted set, score 0. */
  refs: string
}

export function shardKeys(prefix: string, shard: number): ShardKeys {
  const tag = `${prefix}{${shard}}`
  return { tag, exp: `${tag}:exp`, keys: `${tag}:keys`, refOf: `${tag}:ref`, refs: `${tag}:refs` }
}

export const rowKey = (tag: string, key: string): string => `${tag}:k:${key}`

/** FNV-1a over the key's UTF-8 bytes: stable across processes and versions, so every server agrees. */
export function shardOf(key: string, shards: number): number {
  if (shards === 1) return 0
  let h = 0x811c9dc5
  // Session ids are ASCII: their UTF-16 code units are their UTF-8 bytes, no Buffer needed.
  for (let i = 0; i < key.length; i++) {
    const c = key.charCodeAt(i)
    if (c >= 0x80) return fnvBytes(Buffer.from(key, 'utf8')) % shards
    h = Math.imul(h ^ c, 0x01000193) >>> 0
  }
  return h % shards
}

function fnvBytes(bytes: Uint8Array): number {
  let h = 0x811c9dc5
  for (const b of bytes) h = Math.imul(h ^ b, 0x01000193) >>> 0
  return h
}

export function checkPrefix(source: string, prefix: unknown): string {
  if (typeof prefix !== 'string' || prefix.length === 0 || prefix.length > 64 || /[{}\s]/.test(prefix)) {
    throw new SessionError(
      'E_OPTION',
      source,
      'prefix must be 1 to 64 characters without braces or spaces (braces would change the hash tag)',
    )
  }
  return prefix
}

export function checkShards(source: string, shards: unknown): number {
  if (typeof shards !== 'number' || !Number.isInteger(shards) || shards < 1 || shards > 1024) {
    throw new SessionError('E_OPTION', source, 'shards must be a whole number from 1 to 1024')
  }
  return shards
}
