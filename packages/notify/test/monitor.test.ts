import { randomBytes } from 'node:crypto'
import { type DestroyReason, isSessionError } from '@sessile/core'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { expiryNotifier, type NotifyFailure, type SessionMonitor, sessionMonitor } from '../src/index.js'
import { login, memorySessions, seedExpired } from './helpers.js'

const monitors: SessionMonitor[] = []
const track = (m: SessionMonitor): SessionMonitor => {
  monitors.push(m)
  return m
}
afterEach(() => {
  vi.restoreAllMocks()
  for (const m of monitors.splice(0)) m.close()
})

describe('sessionMonitor: queries', () => {
  it('counts live sessions and lists the refs logged in', async () => {
    const { sessions, clock } = memorySessions()
    await seedExpired(sessions, clock, 5)
    const m = track(sessionMonitor(sessions))
    await login(sessions, 'zoe')
    await login(sessions, 'amy')
    await login(sessions, 'amy')
    await sessions.commit(sessions.create({ n: 1 }))
    expect(await m.count()).toBe(4)
    expect(await m.refs()).toEqual(['amy', 'zoe'])
    expect(await m.refs(1)).toEqual(['amy'])
  })

  it('lists the devices of a ref, oldest first, flagging the current one', async () => {
    const { sessions, clock } = memorySessions()
    const m = track(sessionMonitor(sessions))
    const first = await login(sessions, 'kim')
    clock.now += 60_000
    const second = await login(sessions, 'kim')
    clock.now += 60_000
    const s = await sessions.load(first)
    s.set('n', 1)
    await sessions.commit(s)
    await login(sessions, 'other')

    const devices = await m.devices('kim', { current: second })
    expect(devices.map((d) => d.key)).toEqual([sessions.keyOf(first), sessions.keyOf(second)])
    expect(devices.map((d) => d.current)).toEqual([false, true])
    expect(devices[0]!.modified.getTime() - devices[0]!.created.getTime()).toBe(120_000)
    expect(devices[1]!.expiry.getTime()).toBeGreaterThan(clock.now)
    expect(devices[0]).not.toHaveProperty('data')
    expect((await m.devices('kim')).every((d) => !d.current)).toBe(true)
    expect((await m.devices('kim', { current: 'not-an-id' })).every((d) => !d.current)).toBe(true)
    expect(await m.devices('nobody')).toEqual([])
  })

  it('flags the current device when keys are stored hashed, also under a retired secret', async () => {
    const oldSecret = randomBytes(32)
    const newSecret = randomBytes(32)
    const before = memorySessions({ secret: oldSecret })
    const id = await login(before.sessions, 'lee')
    const { createSessions } = await import('@sessile/core')
    const after = createSessions<{ userId?: string }>({
      store: before.store,
      secret: [newSecret, oldSecret],
      ref: (d) => d.userId ?? null,
    })
    const newer = await login(after as never, 'lee')
    const m = track(sessionMonitor(after))
    const devices = await m.devices('lee', { current: id })
    expect(devices).toHaveLength(2)
    expect(devices.every((d) => d.key !== id && d.key !== newer)).toBe(true)
    expect(devices.filter((d) => d.current)).toHaveLength(1)
    expect(devices.find((d) => d.current)!.key).toBe(before.sessions.keyOf(id))
    expect(await m.eject('lee', { except: id })).toHaveLength(1)
    expect((await after.load(id)).isNew).toBe(false)
    expect((await after.load(newer)).isNew).toBe(true)
  })

  it('refuses a bad ref with E_INVALID', async () => {
    const { sessions } = memorySessions()
    const m = track(sessionMonitor(sessions))
    for (const bad of ['', 'x'.repeat(256), {} as never]) {
      await expect(m.devices(bad)).rejects.toSatisfy((e) => isSessionError(e) && e.code === 'E_INVALID')
      await expect(m.eject(bad)).rejects.toSatisfy((e) => isSessionError(e) && e.code === 'E_INVALID')
    }
  })
})

describe('sessionMonitor: eject', () => {
  it('logs a user out everywhere: old cookies get a fresh session, others stay, each is reported', async () => {
    const { sessions } = memorySessions()
    const m = track(sessionMonitor(sessions))
    const seen: [string | null, string, DestroyReason][] = []
    const n = expiryNotifier(sessions, {
      interval: false,
      onDestroy: (r, k, why) => void seen.push([r, k, why]),
    })
    const ids = [await login(sessions, 'max'), await login(sessions, 'max'), await login(sessions, 'max')]
    const bystander = await login(sessions, 'ned')

    const gone = await m.eject('max')
    expect(gone.map((g) => g.key).sort()).toEqual(ids.map((id) => sessions.keyOf(id)).sort())
    for (const id of ids) {
      const s = await sessions.load(id)
      expect(s.isNew).toBe(true)
      expect(s.id).not.toBe(id)
    }
    expect((await sessions.load(bystander)).isNew).toBe(false)
    await n.stop()
    expect(seen.map(([r, k, why]) => `${r} ${why} ${k}`).sort()).toEqual(
      ids.map((id) => `max ref ${sessions.keyOf(id)}`).sort(),
    )
  })

  it('logs out the other devices, keeping the current one', async () => {
    const { sessions } = memorySessions()
    const m = track(sessionMonitor(sessions))
    const [a, b, c] = [
      await login(sessions, 'ola'),
      await login(sessions, 'ola'),
      await login(sessions, 'ola'),
    ]
    const gone = await m.eject('ola', { except: b })
    expect(gone.map((g) => g.key).sort()).toEqual([sessions.keyOf(a), sessions.keyOf(c)].sort())
    expect((await sessions.load(b)).isNew).toBe(false)
    expect((await sessions.load(a)).isNew).toBe(true)
    expect((await m.devices('ola', { current: b })).map((d) => d.current)).toEqual([true])
  })
})

describe('sessionMonitor: max sessions per ref', () => {
  it('maxPerRef 1 keeps only the newest login and reports the evicted ones', async () => {
    const { sessions, clock } = memorySessions()
    track(sessionMonitor(sessions, { maxPerRef: 1 }))
    const seen: [string | null, string, DestroyReason][] = []
    const n = expiryNotifier(sessions, {
      interval: false,
      onDestroy: (r, k, why) => void seen.push([r, k, why]),
    })
    const ids: string[] = []
    for (let i = 0; i < 4; i++) {
      ids.push(await login(sessions, 'pat'))
      clock.now += 1000
    }
    await login(sessions, 'quinn')
    for (const [i, id] of ids.entries()) expect((await sessions.load(id)).isNew).toBe(i !== 3)
    expect((await sessions.findByRef('pat')).map((r) => r.key)).toEqual([sessions.keyOf(ids[3]!)])
    expect(await sessions.findByRef('quinn')).toHaveLength(1)
    await n.stop()
    expect(seen).toEqual(ids.slice(0, 3).map((id) => ['pat', sessions.keyOf(id), 'evict']))
  })

  it('applies when an existing anonymous session logs in, and evicts the least recently written', async () => {
    const { sessions, clock } = memorySessions()
    track(sessionMonitor(sessions, { maxPerRef: 2 }))
    const anon = sessions.create({ n: 1 })
    await sessions.commit(anon)
    clock.now += 1000
    const old = await login(sessions, 'rae')
    clock.now += 1000
    const recent = await login(sessions, 'rae')
    clock.now += 1000
    const busy = await sessions.load(old)
    busy.set('n', 2)
    await sessions.commit(busy)
    clock.now += 1000
    const s = await sessions.load(anon.id)
    s.set('userId', 'rae')
    await sessions.commit(s)
    const keys = (await sessions.findByRef('rae')).map((r) => r.key).sort()
    expect(keys).toEqual([sessions.keyOf(anon.id), sessions.keyOf(old)].sort())
    expect((await sessions.load(recent)).isNew).toBe(true)
  })

  it('on a coarse clock (all logins in one tick) the session that just logged in survives', async () => {
    const { sessions } = memorySessions()
    track(sessionMonitor(sessions, { maxPerRef: 1 }))
    let last = ''
    for (let i = 0; i < 5; i++) {
      last = await login(sessions, 'sam')
      expect((await sessions.findByRef('sam')).map((r) => r.key)).toEqual([sessions.keyOf(last)])
    }
  })

  it('a policy failure is reported and does not fail the login', async () => {
    const { sessions, store, clock } = memorySessions()
    const failures: NotifyFailure[] = []
    track(sessionMonitor(sessions, { maxPerRef: 1, onError: (f) => void failures.push(f) }))
    await login(sessions, 'tia')
    clock.now += 1000
    vi.spyOn(store, 'destroy').mockRejectedValueOnce(new Error('lock wait timeout'))
    const id = await login(sessions, 'tia')
    expect((await sessions.load(id)).isNew).toBe(false)
    expect(failures).toHaveLength(1)
    expect(failures[0]).toMatchObject({
      stage: 'policy',
      ref: 'tia',
      key: sessions.keyOf(id),
      willRetry: false,
    })
    expect(isSessionError(failures[0]!.error) && failures[0]!.error.code).toBe('E_STORE')
    expect(await sessions.findByRef('tia')).toHaveLength(2)
  })

  it('close() removes the policy', async () => {
    const { sessions } = memorySessions()
    const m = sessionMonitor(sessions, { maxPerRef: 1 })
    m.close()
    m.close()
    await login(sessions, 'uma')
    await login(sessions, 'uma')
    expect(await sessions.findByRef('uma')).toHaveLength(2)
  })

  it('refuses bad options with E_OPTION', () => {
    const { sessions } = memorySessions()
    for (const options of [{ maxPerRef: 0 }, { maxPerRef: 1.5 }, { maxPerRef: '2' }, { onError: 1 }]) {
      expect(() => sessionMonitor(sessions, options as never)).toThrow(
        expect.objectContaining({ code: 'E_OPTION' }),
      )
    }
    expect(() => sessionMonitor({} as never)).toThrow(expect.objectContaining({ code: 'E_OPTION' }))
  })
})
