import { type DestroyReason, isSessionError, MemoryStore, type SessionRef } from '@sessile/core'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { jitteredDelay } from '../src/_internal/jitter.js'
import { backoff, MAX_RETRY_DELAY } from '../src/_internal/retry.js'
import { type ExpiryNotifier, expiryNotifier, type NotifyFailure } from '../src/index.js'
import { deferred, login, memorySessions, seedExpired } from './helpers.js'

const open: ExpiryNotifier[] = []
const track = (n: ExpiryNotifier): ExpiryNotifier => {
  open.push(n)
  return n
}

afterEach(async () => {
  // Mocks first: a spy on setTimeout made under fake timers would otherwise restore the fake.
  vi.restoreAllMocks()
  vi.useRealTimers()
  for (const n of open.splice(0)) await n.stop()
})

describe('expiryNotifier: sweep', () => {
  it('hands every expired session to onExpire once, with its ref and key, and leaves live ones', async () => {
    const { sessions, clock } = memorySessions()
    const expired = await seedExpired(sessions, clock, 120)
    const liveId = await login(sessions, 'alive')
    const seen: [string | null, string][] = []
    const n = track(
      expiryNotifier(sessions, { interval: false, onExpire: (ref, key) => void seen.push([ref, key]) }),
    )
    const r = await n.sweep()
    expect(r).toMatchObject({ expired: 120, notified: 120, failed: 0, more: false })
    expect(new Map(seen.map(([ref, key]) => [key, ref]))).toEqual(expired)
    expect(seen).toHaveLength(120)
    expect((await sessions.load(liveId)).isNew).toBe(false)
    expect(await n.sweep()).toMatchObject({ expired: 0, batches: 1 })
  })

  it('deletes in batches of batchSize and stops at maxBatches with more: true', async () => {
    const { sessions, clock, store } = memorySessions()
    await seedExpired(sessions, clock, 95)
    const limits: number[] = []
    const sweep = store.sweep.bind(store)
    vi.spyOn(store, 'sweep').mockImplementation((limit) => {
      limits.push(limit)
      return sweep(limit)
    })
    const n = track(expiryNotifier(sessions, { interval: false, batchSize: 20, maxBatches: 3 }))
    expect(await n.sweep()).toEqual({ expired: 60, notified: 60, failed: 0, batches: 3, more: true })
    expect(await n.sweep()).toEqual({ expired: 35, notified: 35, failed: 0, batches: 3, more: false })
    expect(limits.every((l) => l === 20)).toBe(true)
    expect(await store.sweep(100)).toEqual([])
  })

  it('three notifiers sweeping one store at once notify each session exactly once', async () => {
    const { sessions, clock } = memorySessions()
    const expired = await seedExpired(sessions, clock, 3000)
    const seen: string[] = []
    const notifiers = [1, 2, 3].map(() =>
      track(
        expiryNotifier(sessions, {
          interval: false,
          batchSize: 50,
          maxBatches: 1000,
          onExpire: async (_ref, key) => {
            await new Promise((r) => setImmediate(r))
            seen.push(key)
          },
        }),
      ),
    )
    const results = await Promise.all(notifiers.map((n) => n.sweep()))
    expect(results.reduce((a, r) => a + r.expired, 0)).toBe(3000)
    expect(seen).toHaveLength(3000)
    expect(new Set(seen)).toEqual(new Set(expired.keys()))
  })

  it('a batch shorter than batchSize does not end the sweep: rows another sweeper held are still taken', async () => {
    const { sessions, clock, store } = memorySessions()
    const expired = await seedExpired(sessions, clock, 7)
    const sweep = store.sweep.bind(store)
    // What SKIP LOCKED does while other sweepers hold rows: fewer rows than asked, more left.
    vi.spyOn(store, 'sweep').mockImplementation((limit) => sweep(Math.min(limit, 3)))
    const seen: string[] = []
    const n = track(
      expiryNotifier(sessions, { interval: false, batchSize: 10, onExpire: (_r, k) => void seen.push(k) }),
    )
    expect(await n.sweep()).toEqual({ expired: 7, notified: 7, failed: 0, batches: 4, more: false })
    expect(seen.sort()).toEqual([...expired.keys()].sort())
  })

  it('a second sweep() while one runs joins it instead of sweeping twice', async () => {
    const { sessions, clock, store } = memorySessions()
    await seedExpired(sessions, clock, 10)
    const gate = deferred()
    const spy = vi.spyOn(store, 'sweep')
    const n = track(expiryNotifier(sessions, { interval: false, onExpire: () => gate.promise }))
    const a = n.sweep()
    const b = n.sweep()
    gate.resolve()
    expect(await b).toBe(await a)
    // One sweep: the 10 rows, then the empty batch that ends it.
    expect((await a).batches).toBe(2)
    expect(spy).toHaveBeenCalledTimes(2)
  })

  it('rejects with E_STORE when the store cannot sweep, and with E_INVALID after stop()', async () => {
    const { sessions, store } = memorySessions()
    vi.spyOn(store, 'sweep').mockRejectedValueOnce(new Error('connection reset'))
    const n = expiryNotifier(sessions, { interval: false })
    await expect(n.sweep()).rejects.toSatisfy(
      (e) => isSessionError(e) && e.code === 'E_STORE' && /connection reset/.test(e.message),
    )
    expect(await n.sweep()).toMatchObject({ expired: 0 })
    await n.stop()
    expect(n.stopped).toBe(true)
    await expect(n.sweep()).rejects.toSatisfy((e) => isSessionError(e) && e.code === 'E_INVALID')
  })
})

describe('expiryNotifier: failing callbacks', () => {
  it('a throwing callback does not lose the others, is retried, then reported as given up', async () => {
    const { sessions, clock } = memorySessions()
    const expired = await seedExpired(sessions, clock, 40)
    const calls = new Map<string, number>()
    const failures: NotifyFailure[] = []
    const n = track(
      expiryNotifier(sessions, {
        interval: false,
        retries: 2,
        retryDelay: 1,
        onError: (f) => void failures.push(f),
        onExpire: (ref, key) => {
          calls.set(key, (calls.get(key) ?? 0) + 1)
          if (ref === 'user-1') throw new Error(`cannot release ${ref}`)
        },
      }),
    )
    const r = await n.sweep()
    const bad = [...expired].filter(([, ref]) => ref === 'user-1').map(([key]) => key)
    expect(bad.length).toBeGreaterThan(0)
    expect(r).toMatchObject({ expired: 40, failed: bad.length, notified: 40 - bad.length })
    for (const key of expired.keys()) expect(calls.get(key)).toBe(bad.includes(key) ? 3 : 1)
    expect(failures).toHaveLength(bad.length * 3)
    for (const key of bad) {
      const mine = failures.filter((f) => f.key === key)
      expect(mine.map((f) => [f.attempts, f.willRetry])).toEqual([
        [1, true],
        [2, true],
        [3, false],
      ])
      expect(mine.every((f) => f.stage === 'expire' && f.ref === 'user-1')).toBe(true)
    }
  })

  it('a callback that fails once and then succeeds is delivered', async () => {
    const { sessions, clock } = memorySessions()
    await seedExpired(sessions, clock, 5)
    let first = true
    const failures: NotifyFailure[] = []
    const n = track(
      expiryNotifier(sessions, {
        interval: false,
        retryDelay: 1,
        onError: (f) => void failures.push(f),
        onExpire: async () => {
          if (first) {
            first = false
            throw new Error('flaky')
          }
        },
      }),
    )
    expect(await n.sweep()).toMatchObject({ expired: 5, notified: 5, failed: 0 })
    expect(failures).toHaveLength(1)
    expect(failures[0]).toMatchObject({ attempts: 1, willRetry: true })
  })

  it('retries back off exponentially from retryDelay, capped', async () => {
    vi.useFakeTimers()
    const { sessions, clock } = memorySessions()
    await seedExpired(sessions, clock, 1)
    const at: number[] = []
    const start = Date.now()
    const n = track(
      expiryNotifier(sessions, {
        interval: false,
        retries: 3,
        retryDelay: 100,
        onError: () => {},
        onExpire: () => {
          at.push(Date.now() - start)
          throw new Error('down')
        },
      }),
    )
    const done = n.sweep()
    await vi.advanceTimersByTimeAsync(99)
    expect(at).toEqual([0])
    await vi.advanceTimersByTimeAsync(1)
    expect(at).toEqual([0, 100])
    await vi.advanceTimersByTimeAsync(1000)
    expect(at).toEqual([0, 100, 300, 700])
    expect(await done).toMatchObject({ failed: 1 })
    expect(backoff({ retries: 10, retryDelay: 1000 }, 10)).toBe(MAX_RETRY_DELAY)
  })

  it('rejections never become unhandled, even when onError throws or is missing', async () => {
    const unhandled: unknown[] = []
    const onUnhandled = (reason: unknown) => void unhandled.push(reason)
    process.on('unhandledRejection', onUnhandled)
    const errorLog = vi.spyOn(console, 'error').mockImplementation(() => {})
    try {
      const { sessions, clock } = memorySessions()
      await seedExpired(sessions, clock, 6)
      const id = await login(sessions, 'ann')
      const a = track(
        expiryNotifier(sessions, {
          interval: false,
          retries: 1,
          retryDelay: 1,
          onExpire: () => Promise.reject(new Error('rejected')),
          onDestroy: () => {
            throw new Error('sync throw')
          },
          onError: () => {
            throw new Error('the error handler itself fails')
          },
        }),
      )
      expect(await a.sweep()).toMatchObject({ expired: 6, failed: 6 })
      await sessions.destroy(id)
      await a.flush()
      await new Promise((r) => setTimeout(r, 20))
      expect(unhandled).toEqual([])
      expect(errorLog).toHaveBeenCalled()
    } finally {
      process.off('unhandledRejection', onUnhandled)
    }
  })

  it('without onError, failures arrive as the manager error event', async () => {
    const { sessions, clock } = memorySessions()
    await seedExpired(sessions, clock, 2)
    const events: { error: unknown; event: string }[] = []
    sessions.on('error', (e) => void events.push(e))
    const n = track(
      expiryNotifier(sessions, {
        interval: false,
        retries: 0,
        onExpire: () => {
          throw new Error('boom')
        },
      }),
    )
    expect(await n.sweep()).toMatchObject({ failed: 2 })
    await new Promise((r) => setImmediate(r))
    expect(events).toHaveLength(2)
    expect(events.every((e) => e.event === 'notify:expire' && (e.error as Error).message === 'boom')).toBe(
      true,
    )
  })
})

describe('expiryNotifier: destroy notifications', () => {
  it('reports logout, regenerate, emptied and destroyByRef with ref, key and reason', async () => {
    const { sessions } = memorySessions()
    const seen: [string | null, string, DestroyReason][] = []
    const n = track(
      expiryNotifier(sessions, {
        interval: false,
        onDestroy: (ref, key, reason) => void seen.push([ref, key, reason]),
      }),
    )
    const a = await sessions.load(await login(sessions, 'ann'))
    a.destroy()
    await sessions.commit(a)

    const b = await sessions.load(await login(sessions, 'bob'))
    const bKey = sessions.keyOf(b.id)
    b.regenerate()
    await sessions.commit(b)

    const c = await sessions.load(await login(sessions, 'cid'))
    c.clear()
    await sessions.commit(c)

    const d1 = await login(sessions, 'dee')
    const d2 = await login(sessions, 'dee')
    await sessions.destroyByRef('dee')
    await n.flush()

    expect(seen).toEqual(
      expect.arrayContaining([
        ['ann', sessions.keyOf(a.id), 'destroy'],
        ['bob', bKey, 'regenerate'],
        ['cid', sessions.keyOf(c.id), 'emptied'],
        ['dee', sessions.keyOf(d1), 'ref'],
        ['dee', sessions.keyOf(d2), 'ref'],
      ]),
    )
    expect(seen).toHaveLength(5)
  })

  it('runs onDestroy in the background: logout does not wait for it, flush() and stop() do', async () => {
    const { sessions } = memorySessions()
    const gate = deferred()
    let finished = false
    const n = expiryNotifier(sessions, {
      interval: false,
      onDestroy: async () => {
        await gate.promise
        finished = true
      },
    })
    const id = await login(sessions, 'eve')
    await sessions.destroy(id)
    expect(finished).toBe(false)
    let stopped = false
    const stopping = n.stop().then(() => {
      stopped = true
    })
    await new Promise((r) => setTimeout(r, 10))
    expect(stopped).toBe(false)
    gate.resolve()
    await stopping
    expect(finished).toBe(true)
  })

  it('stops reporting destroys after stop()', async () => {
    const { sessions } = memorySessions()
    const seen: string[] = []
    const n = expiryNotifier(sessions, { interval: false, onDestroy: (_r, key) => void seen.push(key) })
    await n.stop()
    await sessions.destroy(await login(sessions, 'fay'))
    expect(seen).toEqual([])
  })
})

describe('expiryNotifier: timer', () => {
  it('draws each wait evenly within interval * (1 ± jitter)', () => {
    expect(jitteredDelay(10_000, 0.2, () => 0)).toBe(8000)
    expect(jitteredDelay(10_000, 0.2, () => 0.5)).toBe(10_000)
    expect(jitteredDelay(10_000, 0.2, () => 0.999_999)).toBe(12_000)
    expect(jitteredDelay(10_000, 0, Math.random)).toBe(10_000)
    for (let i = 0; i < 1000; i++) {
      const d = jitteredDelay(60_000, 0.3)
      expect(d).toBeGreaterThanOrEqual(42_000)
      expect(d).toBeLessThanOrEqual(78_000)
    }
    expect(jitteredDelay(30 * 86_400_000, 0)).toBe(2_147_483_647)
  })

  it('sweeps on the jittered schedule, again and again, with an unref timer', async () => {
    vi.useFakeTimers()
    const timers: NodeJS.Timeout[] = []
    const real = globalThis.setTimeout
    vi.spyOn(globalThis, 'setTimeout').mockImplementation(((fn: () => void, ms?: number) => {
      const t = real(fn, ms)
      timers.push(t)
      return t
    }) as typeof setTimeout)
    vi.spyOn(Math, 'random').mockReturnValue(0)
    const { sessions, clock, store } = memorySessions()
    const spy = vi.spyOn(store, 'sweep')
    const n = track(expiryNotifier(sessions, { interval: 1000, jitter: 0.5 }))
    expect(timers).toHaveLength(1)
    expect(timers[0]!.hasRef()).toBe(false)
    await vi.advanceTimersByTimeAsync(499)
    expect(spy).not.toHaveBeenCalled()
    await vi.advanceTimersByTimeAsync(1)
    expect(spy).toHaveBeenCalledTimes(1)
    await seedExpired(sessions, clock, 3)
    await vi.advanceTimersByTimeAsync(500)
    // The second sweep: the 3 rows, then the empty batch that ends it.
    expect(spy).toHaveBeenCalledTimes(3)
    expect(await spy.mock.results[1]!.value).toHaveLength(3)
    expect(timers.length).toBeGreaterThanOrEqual(3)
    expect(timers.every((t) => !t.hasRef())).toBe(true)
    await n.stop()
    await vi.advanceTimersByTimeAsync(5000)
    expect(spy).toHaveBeenCalledTimes(3)
  })

  it('a scheduled sweep that fails is reported and the next one still runs', async () => {
    vi.useFakeTimers()
    vi.spyOn(Math, 'random').mockReturnValue(0.5)
    const { sessions, clock, store } = memorySessions()
    await seedExpired(sessions, clock, 4)
    vi.spyOn(store, 'sweep').mockRejectedValueOnce(new Error('db down'))
    const failures: NotifyFailure[] = []
    const expired: string[] = []
    track(
      expiryNotifier(sessions, {
        interval: 1000,
        onError: (f) => void failures.push(f),
        onExpire: (_r, key) => void expired.push(key),
      }),
    )
    await vi.advanceTimersByTimeAsync(1000)
    expect(failures).toHaveLength(1)
    expect(failures[0]!.stage).toBe('sweep')
    expect(isSessionError(failures[0]!.error) && failures[0]!.error.code).toBe('E_STORE')
    expect(expired).toEqual([])
    await vi.advanceTimersByTimeAsync(1000)
    expect(expired).toHaveLength(4)
  })

  it('stop() waits for the in-flight sweep, which ends after its current batch', async () => {
    const { sessions, clock } = memorySessions()
    await seedExpired(sessions, clock, 30)
    const gate = deferred()
    const started = deferred()
    const done: string[] = []
    const n = expiryNotifier(sessions, {
      interval: false,
      batchSize: 10,
      onExpire: async (_r, key) => {
        started.resolve()
        await gate.promise
        done.push(key)
      },
    })
    const sweeping = n.sweep()
    await started.promise
    let stopped = false
    const stopping = n.stop().then(() => {
      stopped = true
    })
    await new Promise((r) => setTimeout(r, 20))
    expect(stopped).toBe(false)
    gate.resolve()
    await stopping
    expect(done).toHaveLength(10)
    expect(await sweeping).toMatchObject({ expired: 10, batches: 1, more: true })
    expect(await sessions.store.sweep(100)).toHaveLength(20)
  })

  it('its timer does not keep a process alive (built package, plain node)', async () => {
    const { execFileSync } = await import('node:child_process')
    const { fileURLToPath } = await import('node:url')
    const started = Date.now()
    const out = execFileSync(
      process.execPath,
      [
        '--input-type=module',
        '-e',
        `import { createSessions, MemoryStore } from '@sessile/core'
         import { expiryNotifier } from '@sessile/notify'
         const n = expiryNotifier(createSessions({ store: new MemoryStore() }), { interval: '1h' })
         console.log(n.stopped ? 'stopped' : 'running')`,
      ],
      { cwd: fileURLToPath(new URL('..', import.meta.url)), encoding: 'utf8', timeout: 20_000 },
    )
    expect(out.trim()).toBe('running')
    expect(Date.now() - started).toBeLessThan(20_000)
  })
})

describe('expiryNotifier: options', () => {
  it('refuses bad options and a non-manager with E_OPTION', () => {
    const { sessions } = memorySessions()
    const bad: unknown[] = [
      { interval: 0 },
      { interval: 'soon' },
      { jitter: 2 },
      { jitter: -0.1 },
      { batchSize: 0 },
      { batchSize: 1.5 },
      { batchSize: 100_001 },
      { maxBatches: 0 },
      { concurrency: 0 },
      { retries: -1 },
      { retries: 11 },
      { retryDelay: -5 },
      { onExpire: 'release' },
      { onDestroy: 42 },
      { onError: {} },
    ]
    for (const options of bad) {
      expect(() => expiryNotifier(sessions, options as never), JSON.stringify(options)).toThrow(
        expect.objectContaining({ code: 'E_OPTION' }),
      )
    }
    for (const notSessions of [null, undefined, {}, new MemoryStore(), { store: {} }]) {
      expect(() => expiryNotifier(notSessions as never)).toThrow(
        expect.objectContaining({ code: 'E_OPTION' }),
      )
    }
    expect(() => expiryNotifier(sessions, null as never)).toThrow(
      expect.objectContaining({ code: 'E_OPTION' }),
    )
  })

  it('sweeps expired rows without any callback (plain garbage collection)', async () => {
    const { sessions, clock } = memorySessions()
    await seedExpired(sessions, clock, 7)
    const n = track(expiryNotifier(sessions, { interval: false }))
    expect(await n.sweep()).toMatchObject({ expired: 7, notified: 7 })
    const none: SessionRef[] = await sessions.store.sweep(10)
    expect(none).toEqual([])
  })
})
