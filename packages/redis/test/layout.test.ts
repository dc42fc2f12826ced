/**
 * The row layout: one string (header, ref, data) per session, large payloads staged on a key of
 * their own and renamed into place, a lease in a key of its own.
 */
import { setTimeout as sleep } from 'node:timers/promises'
import { afterAll, describe, expect, it } from 'vitest'
import { oneShard, reachRedis } from './_helpers.js'

const reach = await reachRedis()

describe.skipIf(reach.skip)('redis store: row layout', () => {
  const { prefix, sent, store, raw, put, close } = oneShard()
  afterAll(close)

  /** Stage keys left in Redis: a write must never leave one behind. */
  async function stages(): Promise<string[]> {
    return (await raw.keys(`${prefix}{0}:t:*`)) as string[]
  }

  it('a ref of any UTF-8 comes back whole, beside data of any bytes', async () => {
    const key = 'u'.repeat(43)
    const ref = `Zoë ${'😀'.repeat(100)}`
    const data = Uint8Array.from([0x00, 0xff, 0x31, 0x0a])
    await store.write({ key, data, ref, mode: 'insert', ttl: 60_000 })
    const r = await store.read(key)
    expect(r?.ref).toBe(ref)
    expect([...(r?.data ?? [])]).toEqual([...data])
    expect((await store.findByRef(ref)).map((s) => s.key)).toEqual([key])
  })

  it('a session key holding a value the store did not write is an E_STORE error, not a session', async () => {
    const key = 'f'.repeat(43)
    const row = `${prefix}{0}:k:${key}`
    await raw.set(row, 'hello', 'PX', 60_000)
    await expect(store.read(key)).rejects.toMatchObject({ code: 'E_STORE' })
    await raw.del(row)
    await raw.hset(row, 'd', 'x', 'e', String(Date.now() + 60_000))
    await expect(store.read(key)).rejects.toMatchObject({ code: 'E_STORE' })
    await raw.del(row)
  })

  it("a lease held when its session was destroyed does not hold the key's next session", async () => {
    const key = 'l'.repeat(43)
    await put(key, 'one')
    expect((await store.lease({ key, token: 'first', ttl: 60_000 })).ok).toBe(true)
    expect(await store.lease({ key, token: 'second', ttl: 60_000 })).toMatchObject({
      ok: false,
      reason: 'held',
    })
    await store.destroy(key)
    await sleep(2) // a new session of the same key has a later created time
    await put(key, 'two')
    expect((await store.lease({ key, token: 'second', ttl: 60_000 })).ok).toBe(true)
    expect(await store.release(key, 'second')).toBe(true)
    expect(await store.release(key, 'first')).toBe(false)
  })

  it('large payloads (staged) are written, updated, refused and read back like small ones, and leave no stage behind', async () => {
    const key = 'g'.repeat(43)
    const ref = 'Zoë'
    const ascii = new TextEncoder().encode('{"cart":"' + 'a'.repeat(20_000) + '"}')
    const binary = Uint8Array.from({ length: 9000 }, (_, i) => (i * 7) % 256)
    const w = (data: Uint8Array, mode: 'insert' | 'update' | 'upsert', extra = {}) =>
      store.write({ key, data, ref, mode, ttl: 60_000, ...extra })

    sent.length = 0
    const first = await w(ascii, 'insert')
    expect(first).toMatchObject({ ok: true, version: 1 })
    expect(sent.filter((n) => n !== 'eval')).toEqual(['set', 'evalsha'])
    sent.length = 0
    await put('h'.repeat(43), 'small')
    expect(sent.filter((n) => n !== 'eval')).toEqual(['evalsha'])
    expect(await w(binary, 'insert')).toEqual({ ok: false, reason: 'exists' })
    expect(await w(binary, 'update', { version: 7 })).toEqual({ ok: false, reason: 'conflict' })
    let r = await store.read(key)
    expect(Buffer.from(r?.data ?? []).equals(Buffer.from(ascii))).toBe(true)
    expect(r?.ref).toBe(ref)

    expect(await w(binary, 'update', { version: 1, keepExpiry: true })).toMatchObject({
      ok: true,
      version: 2,
    })
    r = await store.read(key)
    expect(Buffer.from(r?.data ?? []).equals(Buffer.from(binary))).toBe(true)
    expect(r?.expiry.getTime()).toBe(first.ok && first.expiry.getTime())
    // The row keeps its Redis TTL at its expiry, though the stage arrived with a TTL of its own.
    const pttl = await raw.pexpiretime(`${prefix}{0}:k:${key}`)
    expect(pttl).toBe(r?.expiry.getTime())

    await store.destroy(key)
    expect(await w(ascii, 'update')).toEqual({ ok: false, reason: 'missing' })
    expect(await store.read(key)).toBeNull()
    expect(await stages()).toEqual([])
  })

  it('a staged payload travels as text or as bytes by what its ref and data hold, and reads back the same', async () => {
    const ascii = new TextEncoder().encode('{"n":"' + 'b'.repeat(5000) + '"}')
    const binary = Uint8Array.from({ length: 5000 }, (_, i) => 0x80 + (i % 100))
    for (const [i, [ref, data]] of (
      [
        ['bob', ascii],
        [null, ascii],
        ['bob', binary],
        ['Zoë', ascii],
      ] as const
    ).entries()) {
      const key = `s${i}`.padEnd(43, 's')
      expect(await store.write({ key, data, ref, mode: 'insert', ttl: 60_000 })).toMatchObject({ ok: true })
      const r = await store.read(key)
      expect(r?.ref).toBe(ref)
      expect(Buffer.from(r?.data ?? []).equals(Buffer.from(data))).toBe(true)
    }
    expect(await stages()).toEqual([])
  })

  it('updates that keep the expiry still move the ref index and the lease, whichever of them the row had', async () => {
    const key = 'r'.repeat(43)
    const refOf = `${prefix}{0}:ref`
    const data = new TextEncoder().encode('{"n":1}')
    const keep = (ref: string | null, lease?: string) =>
      store.write({ key, data, ref, mode: 'update', ttl: 60_000, keepExpiry: true, lease })
    await store.write({ key, data, ref: null, mode: 'insert', ttl: 60_000 })
    const expiry = (await store.read(key))?.expiry.getTime()
    // No ref before or after: nothing to index.
    expect(await keep(null)).toMatchObject({ ok: true, version: 2 })
    expect(await raw.hexists(refOf, key)).toBe(0)
    // A ref given to a row without one is indexed.
    expect(await keep('carol')).toMatchObject({ ok: true, version: 3 })
    expect((await store.findByRef('carol')).map((s) => s.key)).toEqual([key])
    // A ref taken away is unindexed.
    expect(await keep(null)).toMatchObject({ ok: true, version: 4 })
    expect(await store.findByRef('carol')).toEqual([])
    expect(await raw.hexists(refOf, key)).toBe(0)
    // A lease is released by the same write, ref or not.
    expect((await store.lease({ key, token: 'tok', ttl: 60_000 })).ok).toBe(true)
    expect(await keep(null, 'tok')).toMatchObject({ ok: true, version: 5 })
    expect((await store.lease({ key, token: 'other', ttl: 60_000 })).ok).toBe(true)
    expect((await store.read(key))?.expiry.getTime()).toBe(expiry)
  })
})
