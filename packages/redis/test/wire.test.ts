/** What leaves the client's socket: commands sent together go in one write. */
import { afterAll, describe, expect, it } from 'vitest'
import { redisStore } from '../src/index.js'
import { dropPrefix, oneShard, REDIS_URL, reachRedis, recordingClient, uniquePrefix } from './_helpers.js'

const reach = await reachRedis()

type Write = (this: unknown, ...args: unknown[]) => unknown

/** The socket writes `work` causes: 1 per plain write, the number of chunks per gathered one. */
async function writesOf(socket: unknown, work: () => Promise<unknown>): Promise<number[]> {
  const s = socket as { _write: Write; _writev: Write }
  const writes: number[] = []
  const { _write, _writev } = s
  s._write = function (...a: unknown[]) {
    writes.push(1)
    return _write.apply(this, a)
  }
  s._writev = function (...a: unknown[]) {
    writes.push((a[0] as unknown[]).length)
    return _writev.apply(this, a)
  }
  try {
    await work()
  } finally {
    s._write = _write
    s._writev = _writev
  }
  return writes
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

  it('a query of every shard sends its scripts in one write', async () => {
    const data = new TextEncoder().encode('{"n":1}')
    for (let i = 0; i < 40; i++) {
      const key = `m${i}`.padEnd(43, 'm')
      await many.write({ key, data, ref: i % 4 === 0 ? 'dora' : null, mode: 'insert', ttl: 60_000 })
    }
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
