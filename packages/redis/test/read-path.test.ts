/**
 * The read path: one command per read, usually a plain GET of a row whose Redis TTL is its
 * expiry, with the script (which reads Redis's TIME) at most once a second per shard.
 */
import { setTimeout as sleep } from 'node:timers/promises'
import { afterAll, describe, expect, it } from 'vitest'
import { oneShard, reachRedis } from './_helpers.js'

const reach = await reachRedis()

describe.skipIf(reach.skip)('redis store: reads', () => {
  const { prefix, sent, store, raw, put, close } = oneShard()
  afterAll(close)

  /** The commands `fn` sent, minus the script cache's NOSCRIPT retries. */
  async function commands<T>(fn: () => Promise<T>): Promise<{ result: T; names: string[] }> {
    sent.length = 0
    const result = await fn()
    return { result, names: [...sent] }
  }

  it('a read is the script once per second per shard and a plain GET in between, with the same row', async () => {
    const key = 'k'.repeat(43)
    await put(key, 'hello')
    await sleep(1100)
    const first = await commands(() => store.read(key))
    expect(first.names.filter((n) => n !== 'eval')).toEqual(['evalsha'])
    const second = await commands(() => store.read(key))
    expect(second.names).toEqual(['get'])
    const a = first.result
    const b = second.result
    expect(b).not.toBeNull()
    expect(new TextDecoder().decode(b?.data)).toBe('hello')
    expect({ ...b, data: undefined, now: undefined }).toEqual({ ...a, data: undefined, now: undefined })
    // Its clock is Redis's, read by the script and advanced by the time elapsed since.
    const redisNow = await store.now()
    expect(Math.abs((b?.now.getTime() ?? 0) - redisNow.getTime())).toBeLessThan(50)
    expect(b?.now.getTime()).toBeGreaterThanOrEqual(a?.now.getTime() ?? Number.POSITIVE_INFINITY)
    await sleep(1100)
    const third = await commands(() => store.read(key))
    expect(third.names.filter((n) => n !== 'eval')).toEqual(['evalsha'])
  })

  it('a row past its expiry is no session on the plain path: Redis TTL and the expiry field both hold', async () => {
    const key = 'e'.repeat(43)
    await put(key, 'short', 300)
    await store.read('x'.repeat(43)) // a fresh reading of the clock
    expect((await commands(() => store.read(key))).names).toEqual(['get'])
    await sleep(400)
    const gone = await commands(() => store.read(key))
    expect(gone.names).toEqual(['get'])
    expect(gone.result).toBeNull()

    // A row that lost its TTL (a restore, a hand edit) is judged by its expiry field.
    const stale = 's'.repeat(43)
    await put(stale, 'stale', 60_000)
    const row = `${prefix}{0}:k:${stale}`
    await raw.setrange(row, 27, String(Date.now() - 60_000).padStart(13, '0'))
    await raw.persist(row)
    const r = await commands(() => store.read(stale))
    expect(r.names).toEqual(['get'])
    expect(r.result).toBeNull()
  })

  it('payloads sent as text (ASCII) and as bytes both come back byte for byte', async () => {
    const ascii = Uint8Array.from([0x53, 0x01, 0x00, ...new TextEncoder().encode('{"a":"b\\u0000"}'), 0x7f])
    const binary = Uint8Array.from([0x53, 0x01, 0x00, 0x80, 0xff, 0xc3, 0x28, 0x00])
    const big = new Uint8Array(70 * 1024).fill(0x41)
    for (const [i, data] of [ascii, binary, big].entries()) {
      const key = `p${i}`.padEnd(43, 'p')
      await store.write({ key, data, ref: null, mode: 'upsert', ttl: 60_000 })
      expect(Buffer.from((await store.read(key))?.data ?? []).equals(Buffer.from(data))).toBe(true)
    }
  })
})
