import { randomBytes } from 'node:crypto'
import { setTimeout as sleep } from 'node:timers/promises'
import { createSessions, type DestroyReason, type SessionStore, type Sessions } from '@sessile/core'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { type ExpiryNotifier, expiryNotifier, type NotifyFailure, sessionMonitor } from '../../src/index.js'

type Data = { userId?: string; n?: number }

/** One database the notifier is proven on. */
export interface SqlTarget {
  /** Skip the suite (database unreachable locally; `dbUnavailable` already warned). */
  skip: boolean
  /** Open what the stores share (a PGlite instance), before the first store. */
  setup?: () => Promise<void>
  /** A new store on the suite's table: one "app server" with its own connections. */
  store: () => SessionStore
  /** Insert `count` rows that expired an hour ago (database clock), keys `${prefix}-${i}`. */
  seedExpired: (prefix: string, count: number, ref: (i: number) => string | null) => Promise<void>
  /** Drop the suite's table and close what `setup` opened. */
  teardown: () => Promise<void>
}

const SECRET = randomBytes(32)
const refOf = (i: number): string | null => (i % 5 === 0 ? null : `user-${i % 97}`)

/**
 * The notifier and monitor against a real database: several app servers (each its own store and
 * connections) on one table.
 */
export function describeNotifySql(name: string, t: SqlTarget): void {
  const stores: SessionStore[] = []
  let servers: Sessions<Data>[] = []

  const newServer = async (): Promise<Sessions<Data>> => {
    const store = t.store()
    if ('ensureSchema' in store && typeof store.ensureSchema === 'function') await store.ensureSchema()
    stores.push(store)
    return createSessions<Data>({ store, secret: SECRET, ref: (d) => d.userId ?? null })
  }
  const login = async (sessions: Sessions<Data>, userId: string): Promise<string> => {
    const s = sessions.create({ userId })
    expect((await sessions.commit(s)).cookie).toBe('set')
    return s.id
  }

  describe.skipIf(t.skip)(`notify on ${name}`, { timeout: 90_000 }, () => {
    beforeAll(async () => {
      await t.setup?.()
      servers = [await newServer(), await newServer(), await newServer()]
    }, 90_000)
    beforeEach(async () => {
      await servers[0]!.store.clear()
    })
    afterAll(async () => {
      for (const s of stores) await s.close()
      await t.teardown()
    }, 30_000)

    it('3 notifiers on one table with 10,000 expired sessions notify every one exactly once', async () => {
      await t.seedExpired('exp', 10_000, refOf)
      const live = await login(servers[0]!, 'still-here')
      const seen = new Map<string, (string | null)[]>()
      const notifiers = servers.map((sessions) =>
        expiryNotifier(sessions, {
          interval: false,
          batchSize: 250,
          maxBatches: 1000,
          onExpire: async (ref, key) => {
            await Promise.resolve()
            seen.set(key, [...(seen.get(key) ?? []), ref])
          },
        }),
      )
      const results = await Promise.all(notifiers.map((n) => n.sweep()))
      expect(results.reduce((a, r) => a + r.expired, 0)).toBe(10_000)
      expect(results.every((r) => r.failed === 0 && r.more === false)).toBe(true)
      expect(seen.size).toBe(10_000)
      for (let i = 0; i < 10_000; i++) expect(seen.get(`exp-${i}`)).toEqual([refOf(i)])
      expect((await Promise.all(notifiers.map((n) => n.sweep()))).map((r) => r.expired)).toEqual([0, 0, 0])
      expect((await servers[1]!.load(live)).isNew).toBe(false)
      for (const n of notifiers) await n.stop()
    })

    it('a throwing callback does not lose the other sessions', async () => {
      await t.seedExpired('bad', 600, refOf)
      const seen: string[] = []
      const failures: NotifyFailure[] = []
      const notifiers = servers.map((sessions) =>
        expiryNotifier(sessions, {
          interval: false,
          batchSize: 50,
          retries: 1,
          retryDelay: 5,
          onError: (f) => void failures.push(f),
          onExpire: async (ref, key) => {
            if (ref === 'user-3') throw new Error(`cannot release ${ref}`)
            seen.push(key)
          },
        }),
      )
      const results = await Promise.all(notifiers.map((n) => n.sweep()))
      const bad = Array.from({ length: 600 }, (_, i) => i).filter((i) => refOf(i) === 'user-3')
      expect(bad.length).toBeGreaterThan(0)
      expect(results.reduce((a, r) => a + r.failed, 0)).toBe(bad.length)
      expect(seen.sort()).toEqual(
        Array.from({ length: 600 }, (_, i) => i)
          .filter((i) => !bad.includes(i))
          .map((i) => `bad-${i}`)
          .sort(),
      )
      expect(failures).toHaveLength(bad.length * 2)
      expect(failures.filter((f) => !f.willRetry).map((f) => f.key)).toEqual(
        expect.arrayContaining(bad.map((i) => `bad-${i}`)),
      )
      expect(await servers[0]!.store.sweep(1000)).toEqual([])
      for (const n of notifiers) await n.stop()
    })

    it('eject logs out every session of a user: next requests with those cookies get a fresh session', async () => {
      const destroyed: [string | null, string, DestroyReason][] = []
      const notifiers: ExpiryNotifier[] = servers.map((sessions) =>
        expiryNotifier(sessions, {
          interval: false,
          onDestroy: (r, k, why) => void destroyed.push([r, k, why]),
        }),
      )
      const ids = await Promise.all(servers.map((s) => login(s, 'alice')))
      ids.push(await login(servers[1]!, 'alice'))
      const bob = await login(servers[2]!, 'bob')
      const monitor = sessionMonitor(servers[0]!)
      expect((await monitor.devices('alice', { current: ids[0] })).map((d) => d.current).sort()).toEqual([
        false,
        false,
        false,
        true,
      ])
      const gone = await monitor.eject('alice')
      expect(gone.map((g) => g.key).sort()).toEqual(ids.map((id) => servers[0]!.keyOf(id)).sort())
      for (const [i, id] of ids.entries()) {
        const s = await servers[i % 3]!.load(id)
        expect(s.isNew).toBe(true)
        expect(s.id).not.toBe(id)
      }
      expect((await servers[0]!.load(bob)).isNew).toBe(false)
      expect(await monitor.refs()).toEqual(['bob'])
      for (const n of notifiers) await n.stop()
      expect(destroyed.map(([r, k, why]) => `${r}:${why}:${k}`).sort()).toEqual(
        ids.map((id) => `alice:ref:${servers[0]!.keyOf(id)}`).sort(),
      )
    })

    it('eject with except logs out the other devices only', async () => {
      const ids = [
        await login(servers[0]!, 'carol'),
        await login(servers[1]!, 'carol'),
        await login(servers[2]!, 'carol'),
      ]
      const monitor = sessionMonitor(servers[1]!)
      const gone = await monitor.eject('carol', { except: ids[1] })
      expect(gone).toHaveLength(2)
      expect((await servers[2]!.load(ids[1])).isNew).toBe(false)
      expect((await servers[2]!.load(ids[0])).isNew).toBe(true)
      expect((await monitor.devices('carol', { current: ids[1] })).map((d) => d.current)).toEqual([true])
    })

    it('max sessions per ref 1 keeps only the newest login, across servers', async () => {
      const monitors = servers.map((s) => sessionMonitor(s, { maxPerRef: 1 }))
      const destroyed: [string | null, string, DestroyReason][] = []
      const notifiers = servers.map((sessions) =>
        expiryNotifier(sessions, {
          interval: false,
          onDestroy: (r, k, why) => void destroyed.push([r, k, why]),
        }),
      )
      const ids: string[] = []
      for (let i = 0; i < 4; i++) {
        ids.push(await login(servers[i % 3]!, 'dave'))
        await sleep(5)
      }
      await login(servers[0]!, 'erin')
      for (const [i, id] of ids.entries()) expect((await servers[(i + 1) % 3]!.load(id)).isNew).toBe(i !== 3)
      const devices = await monitors[2]!.devices('dave', { current: ids[3] })
      expect(devices.map((d) => [d.key, d.current])).toEqual([[servers[0]!.keyOf(ids[3]!), true]])
      expect(devices[0]!.expiry.getTime()).toBeGreaterThan(devices[0]!.modified.getTime())
      expect(await monitors[0]!.count()).toBe(2)
      for (const n of notifiers) await n.stop()
      for (const m of monitors) m.close()
      expect(destroyed.map(([r, k, why]) => `${r}:${why}:${k}`).sort()).toEqual(
        ids
          .slice(0, 3)
          .map((id) => `dave:evict:${servers[0]!.keyOf(id)}`)
          .sort(),
      )
    })
  })
}
