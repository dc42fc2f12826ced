import { isSessionError } from '@sessile/core'
import { Cluster, Redis } from 'ioredis'
import { describe, expect, it } from 'vitest'
import { shardKeys, shardOf } from '../src/_internal/layout.js'
import { createStore, redisStore } from '../src/index.js'

const isOption = (e: unknown) => isSessionError(e) && e.code === 'E_OPTION'
// lazyConnect keeps these clients from ever dialling: only the choice of client is tested.
const lazy = { redisOptions: { lazyConnect: true }, clusterOptions: { lazyConnect: true } }

describe('createStore', () => {
  it('picks one Redis for a redis:// or rediss:// URL and a cluster for several', async () => {
    const one = createStore('redis://127.0.0.1:6379/3', lazy)
    const tls = createStore('rediss://u:p@127.0.0.1:6380', lazy)
    const many = createStore('redis://127.0.0.1:7300, redis://127.0.0.1:7301', lazy)
    const list = createStore(['redis://127.0.0.1:7300', 'redis://127.0.0.1:7301'], lazy)
    const forced = createStore('redis://127.0.0.1:7300', { ...lazy, cluster: true })
    expect(one.client).toBeInstanceOf(Redis)
    expect((one.client as Redis).options.db).toBe(3)
    expect(tls.client).toBeInstanceOf(Redis)
    expect((tls.client as Redis).options.tls).toBeDefined()
    for (const s of [many, list, forced]) expect(s.client).toBeInstanceOf(Cluster)
    expect((many.client as unknown as { startupNodes: unknown }).startupNodes).toEqual([
      { host: '127.0.0.1', port: 7300 },
      { host: '127.0.0.1', port: 7301 },
    ])
    for (const s of [one, tls, many, list, forced]) await s.close()
  })

  it('refuses other schemes and malformed URLs with E_OPTION, naming the SQL createStore', () => {
    for (const bad of [
      'postgres://h/db',
      'mysql://h',
      'redis:/h',
      'http://h',
      '',
      'redis://h,mysql://x',
      42,
      null,
    ]) {
      expect(() => createStore(bad as string)).toThrow(expect.objectContaining({ code: 'E_OPTION' }))
    }
    expect(() => createStore('postgres://h/db')).toThrow(/@sessile\/drizzle/)
  })
})

describe('options are checked at construction', () => {
  it('refuses bad prefixes, shard counts, sizes, clients and warning hooks', () => {
    const bad: unknown[] = [
      { prefix: '' },
      { prefix: 'a{b}' },
      { prefix: 'with space' },
      { shards: 0 },
      { shards: 1.5 },
      { shards: 5000 },
      { maxDataBytes: 0 },
      { maxDataBytes: 600 * 1024 * 1024 },
      { client: {} },
      { onWarning: 'yes' },
      { url: 'http://h' },
    ]
    for (const options of bad) {
      const e = (() => {
        try {
          redisStore({ ...lazy, ...(options as object) })
        } catch (error) {
          return error
        }
      })()
      expect(isOption(e), JSON.stringify(options)).toBe(true)
    }
  })

  it('maps keys to shards stably and spreads them, each shard under its own hash tag', () => {
    expect(shardOf('abc', 16)).toBe(shardOf('abc', 16))
    expect(shardOf('abc', 1)).toBe(0)
    const counts = new Array(16).fill(0)
    for (let i = 0; i < 16_000; i++) counts[shardOf(`key-${i}`, 16)]++
    expect(Math.min(...counts)).toBeGreaterThan(800)
    expect(shardKeys('p:', 7)).toMatchObject({ tag: 'p:{7}', exp: 'p:{7}:exp', refs: 'p:{7}:refs' })
  })
})

describe('shardOf', () => {
  it('hashes the UTF-8 bytes, so an ASCII key and its non-ASCII neighbours use one definition', () => {
    const fnv = (bytes: Buffer) => {
      let h = 0x811c9dc5
      for (const b of bytes) h = Math.imul(h ^ b, 0x01000193) >>> 0
      return h
    }
    for (const key of ['abc', 'key-1', 'ключ-💡', 'nëar', '\u007f', 'x'.repeat(255)]) {
      expect(shardOf(key, 16)).toBe(fnv(Buffer.from(key, 'utf8')) % 16)
      expect(shardOf(key, 7)).toBe(fnv(Buffer.from(key, 'utf8')) % 7)
    }
  })
})
