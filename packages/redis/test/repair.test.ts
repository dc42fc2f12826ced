import { Redis } from 'ioredis'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { rowKey, shardKeys, shardOf } from '../src/_internal/layout.js'
import { type RedisStore, redisStore } from '../src/index.js'
import { dropPrefix, REDIS_URL, reachRedis, uniquePrefix } from './_helpers.js'

// Indexes out of step with rows (a lost write, an evicted key, a hand edit): the sweep and the
// queries check the rows instead of trusting the indexes.
const reach = await reachRedis()
const prefix = uniquePrefix()
let store: RedisStore
let raw: Redis
const HOUR = 3_600_000
const data = new Uint8Array([1])
const where = (key: string) => {
  const s = shardKeys(prefix, shardOf(key, 16))
  return { ...s, row: rowKey(s.tag, key) }
}

beforeAll(() => {
  if (reach.skip) return
  store = redisStore({ url: REDIS_URL, prefix })
  raw = new Redis(REDIS_URL)
})
afterAll(async () => {
  if (reach.skip) return
  await store.close()
  raw.disconnect()
  await dropPrefix(REDIS_URL, prefix)
})

describe.skipIf(reach.skip)('indexes out of step with the rows', () => {
  it('an expiry entry that lags a live row is moved to the row expiry, not swept', async () => {
    const key = 'lagging'
    const w = await store.write({ key, data, ref: 'amy', mode: 'insert', ttl: HOUR })
    const k = where(key)
    await raw.zadd(k.exp, 1, key)
    expect(await store.sweep(100)).toEqual([])
    expect(Number(await raw.zscore(k.exp, key))).toBe(w.ok && w.expiry.getTime())
    expect((await store.read(key))?.ref).toBe('amy')
  })

  it('an entry whose row Redis already dropped is swept once, with its ref, and leaves no ref behind', async () => {
    const key = 'dropped'
    await store.write({ key, data, ref: 'bob', mode: 'insert', ttl: HOUR })
    const k = where(key)
    await raw.del(k.row)
    await raw.zadd(k.exp, 1, key)
    expect(await store.sweep(100)).toEqual([{ key, ref: 'bob' }])
    expect(await store.sweep(100)).toEqual([])
    expect(await raw.hexists(k.refOf, key)).toBe(0)
    expect(await raw.exists(`${k.tag}:r:bob`)).toBe(0)
    expect(await raw.zscore(k.refs, 'bob')).toBeNull()
  })

  it('a row whose expiry entry is gone is still destroyed and reported once', async () => {
    const key = 'unindexed'
    await store.write({ key, data, ref: 'cid', mode: 'insert', ttl: HOUR })
    await raw.zrem(where(key).exp, key)
    expect(await store.destroy(key)).toEqual({ key, ref: 'cid' })
    expect(await store.destroy(key)).toBeNull()
  })

  it('a ref set that still names a key after its ref changed does not make findByRef lie', async () => {
    const key = 'moved'
    await store.write({ key, data, ref: 'dee', mode: 'insert', ttl: HOUR })
    await store.write({ key, data, ref: 'eve', mode: 'upsert', ttl: HOUR })
    await raw.sadd(`${where(key).tag}:r:dee`, key)
    expect(await store.findByRef('dee')).toEqual([])
    expect((await store.findByRef('eve')).map((s) => s.key)).toEqual([key])
  })
})
