import { setTimeout as sleep } from 'node:timers/promises'
import { createSessions, isSessionError, MemoryStore, type SessionStore } from '@sessile/core'
import { describe, expect, it } from 'vitest'
import { HotKeys } from '../src/_internal/manager/hot.js'

/** The store's calls by method, counted on the way to a real MemoryStore. */
function counting(store: SessionStore): { store: SessionStore; calls: Record<string, number> } {
  const calls: Record<string, number> = {}
  const proxy = new Proxy(store, {
    get: (target, prop, receiver) => {
      const value = Reflect.get(target, prop, receiver)
      if (typeof value !== 'function' || typeof prop !== 'string') return value
      return (...args: unknown[]) => {
        calls[prop] = (calls[prop] ?? 0) + 1
        return value.apply(target, args)
      }
    },
  })
  return { store: proxy, calls }
}

const reset = (calls: Record<string, number>): void => {
  for (const k of Object.keys(calls)) delete calls[k]
}

/** A session made hot by two saves that conflict. */
async function heated(sessions: ReturnType<typeof createSessions>, id: string): Promise<void> {
  const a = await sessions.load(id)
  const b = await sessions.load(id)
  a.data.x = 1
  b.data.y = 1
  await sessions.commit(a)
  await sessions.commit(b)
}

describe('HotKeys', () => {
  it('a key is hot for the cooldown after its last mark, then cold', async () => {
    const hot = new HotKeys(50)
    expect(hot.any).toBe(false)
    hot.mark('k')
    expect(hot.has('k')).toBe(true)
    expect(hot.has('other')).toBe(false)
    await sleep(30)
    hot.mark('k')
    await sleep(30)
    expect(hot.has('k')).toBe(true)
    await sleep(40)
    expect(hot.has('k')).toBe(false)
    expect(hot.any).toBe(false)
  })

  it('remembers at most 10,000 keys, forgetting the least recently marked', () => {
    const hot = new HotKeys(60_000)
    for (let i = 0; i <= 10_000; i++) hot.mark(`k${i}`)
    expect(hot.has('k0')).toBe(false)
    expect(hot.has('k1')).toBe(true)
    expect(hot.has('k10000')).toBe(true)
  })
})

describe('hot sessions (default mode)', () => {
  it('a cold session loads with one read and no lease', async () => {
    const { store, calls } = counting(new MemoryStore())
    const sessions = createSessions({ store })
    const id = (await sessions.commit(sessions.create({ n: 0 }))).id
    reset(calls)
    const s = await sessions.load(id)
    await sessions.commit(s)
    expect(calls).toEqual({ read: 1 })
  })

  it('two saves that conflict make the session hot: its next load takes the lease', async () => {
    const { store, calls } = counting(new MemoryStore())
    const sessions = createSessions({ store })
    const id = (await sessions.commit(sessions.create({ n: 0 }))).id
    await heated(sessions, id)
    // The conflicting save took the lease, re-read under it and wrote once more.
    const s = await sessions.load(id)
    expect(s.data).toEqual({ n: 0, x: 1, y: 1 })
    reset(calls)
    await sessions.commit(s)
    expect(calls).toEqual({ release: 1 })
    reset(calls)
    await sessions.commit(await sessions.load(id))
    expect(calls).toEqual({ lease: 1, release: 1 })
  })

  it('hot: false keeps lease-free loads and the plain merge', async () => {
    const { store, calls } = counting(new MemoryStore())
    const sessions = createSessions({ store, hot: false })
    const id = (await sessions.commit(sessions.create({ n: 0 }))).id
    await heated(sessions, id)
    reset(calls)
    await sessions.commit(await sessions.load(id))
    expect(calls).toEqual({ read: 1 })
    expect(sessions.options.hot).toBeNull()
  })

  it('a hot session cools down after hot.cooldown and reads without a lease again', async () => {
    const { store, calls } = counting(new MemoryStore())
    const sessions = createSessions({ store, hot: { cooldown: 60 } })
    const id = (await sessions.commit(sessions.create({ n: 0 }))).id
    await heated(sessions, id)
    await sleep(80)
    reset(calls)
    await sessions.commit(await sessions.load(id))
    expect(calls).toEqual({ read: 1 })
  })

  it('a request already waiting is handed the lease and the row its holder wrote: no store call', async () => {
    const { store, calls } = counting(new MemoryStore())
    const sessions = createSessions({ store })
    const id = (await sessions.commit(sessions.create({ n: 0 }))).id
    await heated(sessions, id)
    const a = await sessions.load(id)
    const waiting = sessions.load(id)
    await sleep(5)
    reset(calls)
    a.data.n = 1
    await sessions.commit(a)
    const b = await waiting
    // The update kept the lease (no release) and b read nothing.
    expect(calls).toEqual({ write: 1 })
    expect(b.data.n).toBe(1)
    // b's object is its own, not a's.
    expect(b.data).not.toBe(a.data)
    b.data.n = 2
    reset(calls)
    await sessions.commit(b)
    // Nobody waits now: the update releases the lease in its statement.
    expect(calls).toEqual({ write: 1 })
    const c = await sessions.load(id)
    expect(c.data.n).toBe(2)
    await sessions.release(c)
  })

  it('a request that arrived after the state was read re-takes the lease and reads the row', async () => {
    const raw = new MemoryStore()
    const { store, calls } = counting(raw)
    const sessions = createSessions({ store })
    // Another process that has not seen the contention: writes without a lease.
    const other = createSessions({ store: raw, hot: false })
    const id = (await sessions.commit(sessions.create({ n: 0 }))).id
    await heated(sessions, id)
    const a = await sessions.load(id)
    await sleep(2)
    const late = sessions.load(id)
    const o = await other.load(id)
    o.data.z = 'other'
    await other.commit(o)
    reset(calls)
    // Read-only: its state stands since its load, before `late` arrived.
    await sessions.commit(a)
    const c = await late
    expect(calls).toEqual({ lease: 1 })
    expect(c.data.z).toBe('other')
    await sessions.release(c)
  })

  it('destroy while a request waits: the waiter finds no session', async () => {
    const sessions = createSessions({ store: new MemoryStore() })
    const id = (await sessions.commit(sessions.create({ n: 0 }))).id
    await heated(sessions, id)
    const a = await sessions.load(id)
    const waiting = sessions.load(id)
    await sleep(2)
    await sessions.destroy(id)
    expect((await waiting).isNew).toBe(true)
    a.data.n = 5
    const r = await sessions.commit(a)
    expect(r.cookie).toBe('clear')
    expect((await sessions.load(id)).isNew).toBe(true)
  })

  it('a waiter that runs out of hot.wait reads without the lease instead of failing', async () => {
    const sessions = createSessions({ store: new MemoryStore(), hot: { wait: 30, lease: '10s' } })
    const id = (await sessions.commit(sessions.create({ n: 0 }))).id
    await heated(sessions, id)
    const a = await sessions.load(id)
    const b = await sessions.load(id)
    expect(b.isNew).toBe(false)
    a.data.a = 1
    b.data.b = 1
    await sessions.commit(b)
    await sessions.commit(a)
    const c = await sessions.load(id)
    expect(c.data).toMatchObject({ a: 1, b: 1 })
    await sessions.release(c)
  })

  it('refuses bad hot options with E_OPTION', () => {
    const bad = [{ hot: 'yes' }, { hot: { cooldown: 0 } }, { hot: { wait: -1 } }, { hot: { lease: 10 } }]
    for (const extra of bad) {
      let error: unknown
      try {
        createSessions({ store: new MemoryStore(), ...(extra as object) })
      } catch (e) {
        error = e
      }
      expect(isSessionError(error) && error.code).toBe('E_OPTION')
    }
  })
})
