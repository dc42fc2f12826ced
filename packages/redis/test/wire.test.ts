/** What leaves the client's socket: commands sent together go in one write. */
import { afterAll, describe, expect, it } from 'vitest'
import { redisStore } from '../src/index.js'
import {
  countWrites,
  dropPrefix,
  oneShard,
  REDIS_URL,
  reachRedis,
  recordingClient,
  uniquePrefix,
} from './_helpers.js'

const reach = await reachRedis()

/** The socket writes `work` causes. */
async function writesOf(socket: unknown, work: () => Promise<unknown>): Promise<number[]> {
  const { writes, restore } = countWrites(socket)
  try {
    await work()
  } finally {
    restore()
  }
  return writes
}

/** What the socket receives while `work` runs, as text. */
async function repliesTo(socket: unknown, work: () => Promise<unknown>): Promise<string> {
  const stream = socket as NodeJS.ReadableStream
  let text = ''
  const onData = (chunk: Buffer) => {
    text += chunk.toString('latin1')
  }
  stream.on('data', onData)
  try {
    await work()
  } finally {
    stream.off('data', onData)
  }
  return text
}

describe.skipIf(reach.skip)('redis store: commands on the wire', () => {
  const { prefix, store, client, raw, close } = oneShard()
  const sharded = recordingClient()
  const shardedPrefix = uniquePrefix()
  const many = redisStore({ client: sharded.client, prefix: shardedPrefix, shards: 16, onWarning: false })
  afterAll(async () => {
    await close()
    await many.close()
    sharded.client.disconnect()
    await dropPrefix(REDIS_URL, shardedPrefix)
  })

  it('a staged payload and its script leave in one write', async () => {
    const key = 'w'.repeat(43)
    const data = new TextEncoder().encode(`{"n":"${'c'.repeat(5000)}"}`)
    await store.write({ key, data, ref: null, mode: 'insert', ttl: 60_000 })
    const writes = await writesOf(client.stream, async () => {
      expect(await store.write({ key, data, ref: null, mode: 'update', ttl: 60_000 })).toMatchObject({
        ok: true,
      })
    })
    // The stage's SET, then the script.
    expect(writes).toEqual([2])
    expect(await raw.keys(`${prefix}{0}:t:*`)).toEqual([])
  })

  // A table reply costs Redis 7.0 far more behind a request of over 16 KiB (docs/redis.md, "Replies").
  it('writes and destroys are answered with a string, not an array', async () => {
    const key = 'a'.repeat(43)
    const staged = new TextEncoder().encode(`{"n":"${'c'.repeat(20_000)}"}`)
    const small = new TextEncoder().encode('{"n":1}')
    // The scripts once first, so a Redis that lacks them (a fresh server) adds no NOSCRIPT reply.
    await store.write({ key: 'b'.repeat(43), data: small, ref: null, mode: 'upsert', ttl: 60_000 })
    await store.destroy('b'.repeat(43))
    const replies = await repliesTo(client.stream, async () => {
      await store.write({ key, data: staged, ref: 'alice', mode: 'insert', ttl: 60_000 })
      await store.write({ key, data: small, ref: 'alice', mode: 'update', ttl: 60_000 })
      await store.write({ key, data: small, ref: null, mode: 'insert', ttl: 60_000 })
      expect(await store.destroy(key)).toEqual({ key, ref: 'alice' })
      expect(await store.destroy(key)).toBeNull()
    })
    // +OK (the stage), a version:expiry, a version:expiry, 'exists', the ref, nil.
    expect(replies).toMatch(
      /^\+OK\r\n\$\d+\r\n1:\d{13}\r\n\$\d+\r\n2:\d{13}\r\n\$6\r\nexists\r\n\$5\r\nalice\r\n\$-1\r\n$/,
    )
  })

  it('a query of every shard sends its scripts in one write', async () => {
    const data = new TextEncoder().encode('{"n":1}')
    for (let i = 0; i < 40; i++) {
      const key = `m${i}`.padEnd(43, 'm')
      await many.write({ key, data, ref: i % 4 === 0 ? 'dora' : null, mode: 'insert', ttl: 60_000 })
    }
    // Once first: a Redis that lacks the script (a fresh server) answers NOSCRIPT, and each shard's
    // script is then sent whole, one write each; the one-write rule is for the steady state.
    await many.count()
    await many.findByRef('dora')
    let count = 0
    expect(await writesOf(sharded.client.stream, async () => (count = await many.count()))).toEqual([16])
    expect(count).toBe(40)
    let found = 0
    const writes = await writesOf(
      sharded.client.stream,
      async () => (found = (await many.findByRef('dora')).length),
    )
    expect(writes).toEqual([16])
    expect(found).toBe(10)
  })
})
