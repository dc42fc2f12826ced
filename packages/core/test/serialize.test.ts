import { performance } from 'node:perf_hooks'
import { setTimeout as sleep } from 'node:timers/promises'
import { createSessions, isSessionError, MemoryStore, type Sessions } from '@sessile/core'
import { describe, expect, it } from 'vitest'

type Counter = { n?: number; [k: string]: unknown }

async function seed(sessions: Sessions<Counter>): Promise<string> {
  const s = sessions.create({ n: 0 })
  await sessions.commit(s)
  return s.id
}

// One request: load, yield to the event loop (the app's own work), increment, commit.
async function increment(sessions: Sessions<Counter>, id: string): Promise<void> {
  const s = await sessions.load(id)
  await sleep(Math.random() * 2)
  s.data.n = (s.data.n ?? 0) + 1
  await sessions.commit(s)
}

async function counterAfter(sessions: Sessions<Counter>, id: string): Promise<number> {
  const s = await sessions.load(id)
  const n = s.data.n ?? -1
  await sessions.release(s)
  return n
}

describe('serialised mode (lease on the row)', () => {
  it('32 concurrent requests x 20 rounds on one counter lose no increment', async () => {
    const sessions = createSessions<Counter>({ store: new MemoryStore(), serialize: true })
    const id = await seed(sessions)
    for (let round = 0; round < 20; round++) {
      await Promise.all(Array.from({ length: 32 }, () => increment(sessions, id)))
    }
    expect(await counterAfter(sessions, id)).toBe(640)
  })

  it('the default (merging) mode does lose increments of one field, which is why the mode exists', async () => {
    const sessions = createSessions<Counter>({ store: new MemoryStore() })
    const id = await seed(sessions)
    await Promise.all(Array.from({ length: 32 }, () => increment(sessions, id)))
    expect(await counterAfter(sessions, id)).toBeLessThan(32)
  })

  it('two managers (two app servers) on one store serialise through the row lease', async () => {
    const store = new MemoryStore()
    const a = createSessions<Counter>({ store, serialize: true })
    const b = createSessions<Counter>({ store, serialize: true })
    const id = await seed(a)
    await Promise.all(Array.from({ length: 40 }, (_, i) => increment(i % 2 ? a : b, id)))
    expect(await counterAfter(a, id)).toBe(40)
  })

  it('a request that dies holding the lease blocks the next one no longer than the lease', async () => {
    const store = new MemoryStore()
    const dead = createSessions<Counter>({ store, serialize: { lease: '400ms', wait: '5s' } })
    const live = createSessions<Counter>({ store, serialize: { lease: '400ms', wait: '5s' } })
    const id = await seed(live)
    await dead.load(id) // never committed nor released
    const started = performance.now()
    const s = await live.load(id)
    const waited = performance.now() - started
    expect(s.isNew).toBe(false)
    expect(waited).toBeGreaterThan(300)
    expect(waited).toBeLessThan(1000)
    await live.commit(s)
  })

  it('in one process too: an abandoned load lets the next in after the lease', async () => {
    const sessions = createSessions<Counter>({ store: new MemoryStore(), serialize: { lease: '300ms' } })
    const id = await seed(sessions)
    await sessions.load(id)
    const started = performance.now()
    const s = await sessions.load(id)
    expect(performance.now() - started).toBeLessThan(900)
    expect(s.data.n).toBe(0)
    await sessions.release(s)
  })

  it('gives E_BUSY (503) after the bounded wait, and frees its place in the queue', async () => {
    const sessions = createSessions<Counter>({
      store: new MemoryStore(),
      serialize: { lease: '5s', wait: '150ms' },
    })
    const id = await seed(sessions)
    const holder = await sessions.load(id)
    const e = await sessions.load(id).catch((err: unknown) => err)
    expect(isSessionError(e) && e.code === 'E_BUSY' && e.statusCode === 503).toBe(true)
    await sessions.commit(holder)
    const next = await sessions.load(id)
    expect(next.isNew).toBe(false)
    await sessions.release(next)
  })

  it('commit and release give the lease back on every path', async () => {
    const store = new MemoryStore()
    const sessions = createSessions<Counter>({ store, serialize: { lease: '10s', wait: '100ms' } })
    const id = await seed(sessions)
    const key = sessions.keyOf(id)
    const free = async () => {
      const r = await store.lease({ key, token: 'probe', ttl: 1000 })
      if (r.ok) await store.release(key, 'probe')
      return r.ok
    }
    // unchanged (no write)
    await sessions.commit(await sessions.load(id))
    expect(await free()).toBe(true)
    // changed (update)
    const changed = await sessions.load(id)
    changed.data.n = 5
    expect((await sessions.commit(changed)).write).toBe('update')
    expect(await free()).toBe(true)
    // touched
    const touched = await sessions.load(id)
    touched.touch()
    expect((await sessions.commit(touched)).write).toBe('touch')
    expect(await free()).toBe(true)
    // released without commit
    await sessions.release(await sessions.load(id))
    expect(await free()).toBe(true)
    // a commit that fails (too large) still gives it back
    const big = await sessions.load(id)
    big.data.blob = 'x'.repeat(2 * 1024 * 1024)
    await expect(sessions.commit(big)).rejects.toThrow(/maxSize/)
    expect(await free()).toBe(true)
    // regenerate: the old row is gone, the new one is free
    const regen = await sessions.load(id)
    regen.regenerate()
    const r = await sessions.commit(regen)
    expect(r.id).not.toBe(id)
    expect((await sessions.load(id)).isNew).toBe(true)
    const after = await sessions.load(r.id)
    expect(after.data.n).toBe(5)
    await sessions.release(after)
  })

  it('destroy(id) while a request holds the lease lets the queued requests in, to no session', async () => {
    const sessions = createSessions<Counter>({ store: new MemoryStore(), serialize: { lease: '10s' } })
    const id = await seed(sessions)
    const holder = await sessions.load(id)
    const queued = sessions.load(id)
    await sleep(20)
    await sessions.destroy(id)
    const started = performance.now()
    const s = await queued
    expect(performance.now() - started).toBeLessThan(500)
    expect(s.isNew).toBe(true)
    // The holder's late save does not resurrect the session.
    holder.data.n = 99
    const r = await sessions.commit(holder)
    expect(r.cookie).toBe('clear')
    expect((await sessions.load(id)).isNew).toBe(true)
  })

  it('refuses serialize with a store that has no lease()', () => {
    const store = new MemoryStore()
    const noLease = new Proxy(store, {
      get: (t, p) => (p === 'lease' || p === 'release' ? undefined : Reflect.get(t, p, t)),
    })
    expect(() => createSessions({ store: noLease, serialize: true })).toThrow(/lease\(\) and release\(\)/)
    expect(() => createSessions({ store, serialize: { lease: '10ms' } })).toThrow(/serialize.lease/)
    expect(() => createSessions({ store, serialize: 'yes' as never })).toThrow(/serialize must be/)
  })
})
