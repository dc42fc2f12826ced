import { createHmac } from 'node:crypto'
import {
  createSessions,
  type Filter,
  isSessionError,
  MemoryStore,
  parseEnvelope,
  type SessionEvents,
} from '@sessile/core'
import { describe, expect, it } from 'vitest'
import { CountingStore, DownStore } from './_helpers.js'

const SECRET = 'a-server-secret-of-at-least-32-bytes!!'

function setup(extra: Partial<Parameters<typeof createSessions>[0]> = {}) {
  const store = new CountingStore()
  const sessions = createSessions({ store, ...extra })
  return { store, sessions }
}

async function stored(sessions: ReturnType<typeof setup>['sessions'], data: Record<string, unknown>) {
  const s = sessions.create()
  Object.assign(s.data, data)
  const r = await sessions.commit(s)
  expect(r.cookie).toBe('set')
  return r.id
}

describe('load', () => {
  it('gives a fresh session with a 256-bit id when there is no cookie', async () => {
    const { sessions, store } = setup()
    const s = await sessions.load(undefined)
    expect(s.isNew).toBe(true)
    expect(s.id).toMatch(/^[A-Za-z0-9_-]{43}$/)
    expect(Buffer.from(s.id, 'base64url')).toHaveLength(32)
    expect(store.calls.read ?? 0).toBe(0)
  })

  it('never queries the store for a malformed id', async () => {
    const { sessions, store } = setup()
    const bad = [
      '',
      'short',
      'x'.repeat(44),
      `${'a'.repeat(42)}!`,
      `${'a'.repeat(42)}=`,
      '../../etc/passwd',
      '\u00a0'.repeat(43),
    ]
    for (const id of bad) {
      const s = await sessions.load(id)
      expect(s.isNew).toBe(true)
      expect(s.id).not.toBe(id)
    }
    expect(store.calls.read ?? 0).toBe(0)
  })

  it('never adopts an unknown well-formed id (strict mode)', async () => {
    const { sessions } = setup()
    const unknown = sessions.generateId()
    const s = await sessions.load(unknown)
    expect(s.isNew).toBe(true)
    expect(s.id).not.toBe(unknown)
    s.set('a', 1)
    const r = await sessions.commit(s)
    expect(r.id).not.toBe(unknown)
    expect((await sessions.load(unknown)).isNew).toBe(true)
  })

  it('round-trips data through commit and load', async () => {
    const { sessions } = setup()
    const id = await stored(sessions, { user: 'ann', n: [1, 2, { deep: true }] })
    const s = await sessions.load(id)
    expect(s.isNew).toBe(false)
    expect(s.id).toBe(id)
    expect(s.data).toEqual({ user: 'ann', n: [1, 2, { deep: true }] })
  })

  it('a store failure is a SessionError E_STORE with status 503', async () => {
    const store = new DownStore()
    const sessions = createSessions({ store })
    const err = await sessions.load(sessions.generateId()).catch((e) => e)
    expect(isSessionError(err)).toBe(true)
    expect(err.code).toBe('E_STORE')
    expect(err.statusCode).toBe(503)
    expect(err.message).toContain('ECONNREFUSED')
  })
})

describe('commit', () => {
  it('writes no row for a new session that stays empty', async () => {
    const { sessions, store } = setup()
    const s = await sessions.load(undefined)
    const r = await sessions.commit(s)
    expect(r).toMatchObject({ cookie: 'keep', write: 'none' })
    expect(await store.count()).toBe(0)
  })

  it('clears a presented but invalid cookie when nothing is stored', async () => {
    const { sessions } = setup()
    const s = await sessions.load('garbage')
    expect((await sessions.commit(s)).cookie).toBe('clear')
  })

  it('never rewrites an unchanged session', async () => {
    const { sessions, store } = setup()
    const id = await stored(sessions, { a: 1 })
    const before = store.writes
    for (let i = 0; i < 20; i++) {
      const s = await sessions.load(id)
      s.set('a', 1)
      expect((await sessions.commit(s)).write).toBe('none')
    }
    expect(store.writes).toBe(before)
  })

  it('moves the expiry only when it would move by touchShare of the ttl', async () => {
    const { sessions, store } = setup({ idleTimeout: 1_000_000, touchShare: 0.1 })
    const id = await stored(sessions, { a: 1 })
    store.advance(50_000)
    expect((await sessions.commit(await sessions.load(id))).write).toBe('none')
    store.advance(100_000)
    const r = await sessions.commit(await sessions.load(id))
    expect(r.write).toBe('touch')
    const row = await store.read(sessions.keyOf(id))
    expect(row!.expiry.getTime() - row!.now.getTime()).toBeGreaterThan(990_000)
  })

  it('a changed session keeps its expiry while it would move by less than touchShare of the ttl', async () => {
    const { sessions, store } = setup({ idleTimeout: 1_000_000, touchShare: 0.1 })
    const id = await stored(sessions, { n: 0 })
    const created = (await store.read(sessions.keyOf(id)))!.expiry.getTime()
    store.advance(50_000)
    const s = await sessions.load(id)
    s.set('n', 1)
    const kept = await sessions.commit(s)
    expect(kept.write).toBe('update')
    const row = await store.read(sessions.keyOf(id))
    expect(row!.version).toBe(2)
    expect(row!.expiry.getTime()).toBe(created)
    expect(kept.expires!.getTime()).toBe(created)
    // A move of 15 % is written with the data.
    store.advance(100_000)
    const later = await sessions.load(id)
    later.set('n', 2)
    const moved = await sessions.commit(later)
    const after = await store.read(sessions.keyOf(id))
    expect(after!.expiry.getTime() - after!.now.getTime()).toBeGreaterThan(990_000)
    expect(moved.expires!.getTime()).toBe(after!.expiry.getTime())
    expect((await sessions.load(id)).data).toEqual({ n: 2 })
  })

  it('a changed session with a shorter ttl, or touched on purpose, has its expiry moved', async () => {
    const { sessions, store } = setup({ idleTimeout: 1_000_000, touchShare: 0.1 })
    const id = await stored(sessions, { n: 0 })
    const s = await sessions.load(id)
    s.set('n', 1)
    s.ttl = 60_000
    await sessions.commit(s)
    const row = await store.read(sessions.keyOf(id))
    expect(row!.expiry.getTime() - row!.now.getTime()).toBeLessThanOrEqual(60_000)
    store.advance(1000)
    const t = await sessions.load(id)
    t.ttl = 1_000_000
    t.set('n', 2).touch()
    await sessions.commit(t)
    const again = await store.read(sessions.keyOf(id))
    expect(again!.expiry.getTime() - again!.now.getTime()).toBeGreaterThan(990_000)
  })

  it('touchShare is a share of the session ttl: a session shorter than idleTimeout is still touched', async () => {
    // express-session's cookie.maxAge becomes the ttl: 60 s here, against a 30-minute idleTimeout.
    const { sessions, store } = setup({ idleTimeout: '30m', touchShare: 0.1 })
    const s = sessions.create({ a: 1 })
    s.ttl = 60_000
    const { id } = await sessions.commit(s)
    store.advance(10_000)
    const again = await sessions.load(id)
    again.ttl = 60_000
    expect((await sessions.commit(again)).write).toBe('touch')
    const row = await store.read(sessions.keyOf(id))
    expect(row!.expiry.getTime() - row!.now.getTime()).toBeGreaterThan(59_000)
  })

  it('commit({ unchanged: true }) skips the serialise and still moves the expiry when due', async () => {
    const { sessions, store } = setup({ idleTimeout: 1_000_000, touchShare: 0.1 })
    const id = await stored(sessions, { a: 1 })
    store.advance(150_000)
    const s = await sessions.load(id)
    // Data that cannot be serialised: a commit that serialised it would fail with E_SERIALIZE.
    const poison = {
      toJSON: () => {
        throw new Error('serialised')
      },
    }
    s.data = { a: poison }
    await expect(sessions.commit(s)).rejects.toSatisfy((e) => isSessionError(e) && e.code === 'E_SERIALIZE')
    const again = await sessions.load(id)
    again.data = { a: poison }
    const r = await sessions.commit(again, { unchanged: true })
    expect(r).toMatchObject({ cookie: 'keep', write: 'touch' })
    expect((await sessions.load(id)).data).toEqual({ a: 1 })
    expect(store.calls['write:update'] ?? 0).toBe(0)
  })

  it('commit({ unchanged: true }) is ignored for a new session and for a regenerated one', async () => {
    const { sessions, store } = setup()
    const fresh = sessions.create({ a: 1 })
    expect((await sessions.commit(fresh, { unchanged: true })).write).toBe('insert')
    const s = await sessions.load(fresh.id)
    s.regenerate()
    s.set('a', 2)
    const r = await sessions.commit(s, { unchanged: true })
    expect(r).toMatchObject({ cookie: 'set', write: 'insert' })
    expect((await sessions.load(r.id)).data).toEqual({ a: 2 })
    expect(await store.count()).toBe(1)
  })

  it('writes a changed session with an update of the loaded version', async () => {
    const { sessions, store } = setup()
    const id = await stored(sessions, { a: 1 })
    const s = await sessions.load(id)
    s.set('a', 2)
    expect((await sessions.commit(s)).write).toBe('update')
    expect(store.calls['write:update']).toBe(1)
    expect((await sessions.load(id)).data).toEqual({ a: 2 })
  })

  it('a session committed twice does not conflict with its own first save', async () => {
    const { sessions, store } = setup()
    const id = await stored(sessions, { n: 0 })
    const s = await sessions.load(id)
    const readsBefore = store.calls.read ?? 0
    for (let n = 1; n <= 3; n++) {
      s.set('n', n)
      expect((await sessions.commit(s)).write).toBe('update')
    }
    expect(store.calls['write:update']).toBe(3)
    expect(store.calls.read ?? 0).toBe(readsBefore)
    expect((await sessions.load(id)).data).toEqual({ n: 3 })
  })

  it('destroy deletes the row, clears the cookie and reports it', async () => {
    const { sessions, store } = setup({ ref: (d) => d.user as string })
    const events: SessionEvents['destroy'][] = []
    sessions.on('destroy', (e) => {
      events.push(e)
    })
    const id = await stored(sessions, { user: 'bo' })
    const s = await sessions.load(id)
    s.destroy()
    expect(await sessions.commit(s)).toMatchObject({ cookie: 'clear', write: 'destroy' })
    expect(await store.count()).toBe(0)
    expect(events).toEqual([{ key: sessions.keyOf(id), ref: 'bo', reason: 'destroy' }])
    expect((await sessions.load(id)).isNew).toBe(true)
  })

  it('an emptied session is deleted and its cookie cleared', async () => {
    const { sessions, store } = setup()
    const id = await stored(sessions, { a: 1 })
    const s = await sessions.load(id)
    s.clear()
    expect(await sessions.commit(s)).toMatchObject({ cookie: 'clear', write: 'destroy' })
    expect(await store.count()).toBe(0)
  })

  it('regenerate issues a new id, keeps the data, and kills the old id', async () => {
    const { sessions } = setup()
    const reasons: string[] = []
    sessions.on('destroy', (e) => {
      reasons.push(e.reason)
    })
    const id = await stored(sessions, { cart: [1] })
    const s = await sessions.load(id)
    s.set('user', 'cy').regenerate()
    const r = await sessions.commit(s)
    expect(r.cookie).toBe('set')
    expect(r.id).not.toBe(id)
    expect((await sessions.load(id)).isNew).toBe(true)
    expect((await sessions.load(r.id)).data).toEqual({ cart: [1], user: 'cy' })
    expect(reasons).toEqual(['regenerate'])
  })

  it('two requests changing different fields both survive', async () => {
    const { sessions } = setup()
    const id = await stored(sessions, { base: true })
    const a = await sessions.load(id)
    const b = await sessions.load(id)
    a.set('fromA', 1)
    b.set('fromB', 2)
    await sessions.commit(a)
    await sessions.commit(b)
    expect((await sessions.load(id)).data).toEqual({ base: true, fromA: 1, fromB: 2 })
  })

  it('32 concurrent requests each adding a field lose none', async () => {
    const { sessions } = setup()
    const id = await stored(sessions, { start: 0 })
    await Promise.all(
      Array.from({ length: 32 }, async (_, i) => {
        const s = await sessions.load(id)
        s.set(`f${i}`, i)
        await sessions.commit(s)
      }),
    )
    const data = (await sessions.load(id)).data
    for (let i = 0; i < 32; i++) expect(data[`f${i}`]).toBe(i)
  })

  it("a save that conflicts twice keeps the other writer's newest value of a field it did not change", async () => {
    const store = new MemoryStore()
    const sessions = createSessions({ store })
    const other = createSessions({ store })
    const id = await stored(sessions as never, { mine: 0, theirs: 0 })
    const s = await sessions.load(id)
    s.set('mine', 1)
    // Before each of our first two update attempts, another app server bumps its own field.
    const write = store.write.bind(store)
    let bumps = 0
    let inOther = false
    store.write = async (req) => {
      if (req.mode === 'update' && bumps < 2 && !inOther) {
        bumps++
        inOther = true
        const o = await other.load(id)
        o.set('theirs', bumps)
        await other.commit(o)
        inOther = false
      }
      return write(req)
    }
    await sessions.commit(s)
    expect(bumps).toBe(2)
    expect((await other.load(id)).data).toEqual({ mine: 1, theirs: 2 })
  })

  it('a deletion in one request and an addition in another both survive', async () => {
    const { sessions } = setup()
    const id = await stored(sessions, { keep: 1, drop: 2 })
    const a = await sessions.load(id)
    const b = await sessions.load(id)
    a.delete('drop')
    b.set('added', 3)
    await sessions.commit(a)
    await sessions.commit(b)
    expect((await sessions.load(id)).data).toEqual({ keep: 1, added: 3 })
  })

  it('when two requests change the same field, the later save wins', async () => {
    const { sessions } = setup()
    const id = await stored(sessions, { color: 'red' })
    const a = await sessions.load(id)
    const b = await sessions.load(id)
    a.set('color', 'green')
    b.set('color', 'blue')
    await sessions.commit(a)
    await sessions.commit(b)
    expect((await sessions.load(id)).data.color).toBe('blue')
  })

  it('a slow request saving after logout does not resurrect the session', async () => {
    const { sessions, store } = setup()
    const id = await stored(sessions, { a: 1 })
    const slow = await sessions.load(id)
    const logout = await sessions.load(id)
    logout.destroy()
    await sessions.commit(logout)
    slow.set('late', true)
    expect((await sessions.commit(slow)).cookie).toBe('clear')
    expect(await store.count()).toBe(0)
    // express-session commits the same object again (touch after an explicit save): still nothing.
    slow.set('later', true)
    expect((await sessions.commit(slow)).write).toBe('none')
    expect(await store.count()).toBe(0)
    expect((await sessions.load(id)).isNew).toBe(true)
  })

  it('refuses data that cannot be JSON and data over maxSize, writing nothing', async () => {
    const { sessions, store } = setup({ maxSize: 1000 })
    const cyc: Record<string, unknown> = {}
    cyc.self = cyc
    for (const [data, code] of [
      [{ n: 10n }, 'E_SERIALIZE'],
      [cyc, 'E_SERIALIZE'],
      [{ big: 'x'.repeat(2000) }, 'E_TOO_LARGE'],
    ] as const) {
      const s = sessions.create()
      Object.assign(s.data, data)
      const err = await sessions.commit(s).catch((e) => e)
      expect(isSessionError(err) && err.code).toBe(code)
    }
    expect(store.writes).toBe(0)
  })
})

describe('prototype safety', () => {
  it('drops __proto__ keys on the way in and out', async () => {
    const { sessions, store } = setup()
    const s = sessions.create()
    s.data = JSON.parse('{"__proto__":{"polluted":true},"ok":1}')
    s.set('__proto__' as never, { polluted: true } as never)
    const r = await sessions.commit(s)
    const back = await sessions.load(r.id)
    expect(back.data).toEqual({ ok: 1 })
    expect(Object.getPrototypeOf(back.data)).toBe(Object.prototype)
    expect(({} as Record<string, unknown>).polluted).toBeUndefined()
    // A crafted stored payload is neutralised as well.
    const key = sessions.keyOf(r.id)
    const row = await store.read(key)
    const header = row!.data.subarray(0, 3)
    await store.write({
      key,
      data: Buffer.concat([header, Buffer.from('{"__proto__":{"isAdmin":true},"x":1}')]),
      ref: null,
      mode: 'update',
      ttl: 60_000,
    })
    const crafted = await sessions.load(r.id)
    expect(crafted.data).toEqual({ x: 1 })
    expect(({ ...crafted.data } as Record<string, unknown>).isAdmin).toBeUndefined()
  })
})

describe('timeouts', () => {
  it('an idle session expires after idleTimeout', async () => {
    const { sessions, store } = setup({ idleTimeout: '10m' })
    const id = await stored(sessions, { a: 1 })
    store.advance(9 * 60_000)
    expect((await sessions.load(id)).isNew).toBe(false)
    store.advance(10 * 60_000 + 1000)
    expect((await sessions.load(id)).isNew).toBe(true)
  })

  it('an active session still ends at absoluteTimeout', async () => {
    const { sessions, store } = setup({ idleTimeout: '10m', absoluteTimeout: '30m', touchShare: 0 })
    const id = await stored(sessions, { a: 1 })
    for (let i = 0; i < 5; i++) {
      store.advance(5 * 60_000)
      const s = await sessions.load(id)
      expect(s.isNew).toBe(false)
      s.set('a', i)
      await sessions.commit(s)
    }
    store.advance(6 * 60_000)
    expect((await sessions.load(id)).isNew).toBe(true)
  })
})

describe('hashed keys', () => {
  it('stores HMAC-SHA-256(secret, id), never the id', async () => {
    const { sessions, store } = setup({ secret: SECRET })
    const id = await stored(sessions, { a: 1 })
    expect(await store.read(id)).toBeNull()
    const key = createHmac('sha256', SECRET).update(id).digest('base64url')
    expect(sessions.keyOf(id)).toBe(key)
    expect(await store.read(key)).not.toBeNull()
    expect((await sessions.load(id)).data).toEqual({ a: 1 })
  })

  it('reads sessions stored under a previous secret during rotation', async () => {
    const store = new MemoryStore()
    const old = createSessions({ store, secret: SECRET })
    const s = old.create()
    s.set('a', 1)
    const { id } = await old.commit(s)
    const rotated = createSessions({ store, secret: ['another-secret-that-is-32-bytes-long', SECRET] })
    expect((await rotated.load(id)).data).toEqual({ a: 1 })
  })
})

describe('refs', () => {
  it('announces a new ref, finds and ends every session of it', async () => {
    const { sessions } = setup({ ref: (d) => (d.user as string) ?? null })
    const refs: SessionEvents['ref'][] = []
    sessions.on('ref', (e) => {
      refs.push(e)
    })
    const ids = [await stored(sessions, { user: 'dee' }), await stored(sessions, { user: 'dee' })]
    await stored(sessions, { user: 'eve' })
    expect(refs.map((r) => r.ref)).toEqual(['dee', 'dee', 'eve'])
    expect((await sessions.findByRef('dee')).map((r) => r.key).sort()).toEqual(ids.map(sessions.keyOf).sort())
    expect(await sessions.refs()).toEqual(['dee', 'eve'])
    const gone = await sessions.destroyByRef('dee', { except: sessions.keyOf(ids[0]!) })
    expect(gone.map((g) => g.key)).toEqual([sessions.keyOf(ids[1]!)])
    expect((await sessions.load(ids[0]!)).isNew).toBe(false)
    expect((await sessions.load(ids[1]!)).isNew).toBe(true)
    await sessions.destroyByRef('dee')
    expect((await sessions.load(ids[0]!)).isNew).toBe(true)
    expect(await sessions.count()).toBe(1)
  })
})

describe('destroy hints', () => {
  const user = (d: Record<string, unknown>) => (typeof d.user === 'string' ? d.user : null)

  it('passes the ref read with a loaded session to the store, and announces the deleted ref', async () => {
    const { store, sessions } = setup({ ref: user })
    const ended: SessionEvents['destroy'][] = []
    sessions.on('destroy', (e) => {
      ended.push(e)
    })
    const [a, b, c] = [
      await stored(sessions, { user: 'ann' }),
      await stored(sessions, { n: 1 }),
      await stored(sessions, { user: 'bo' }),
    ]
    // Logout of a loaded session, whose data (and so its ref-to-be) changed unsaved.
    const sa = await sessions.load(a)
    sa.set('user', 'someone-else').destroy()
    await sessions.commit(sa)
    // Emptied: the row goes.
    const sb = await sessions.load(b)
    sb.clear()
    await sessions.commit(sb)
    // Regenerated: the old row goes.
    const sc = await sessions.load(c)
    sc.regenerate()
    await sessions.commit(sc)
    expect(store.hints).toEqual([{ ref: 'ann' }, { ref: null }, { ref: 'bo' }])
    expect(ended.map((e) => [e.ref, e.reason])).toEqual([
      ['ann', 'destroy'],
      [null, 'emptied'],
      ['bo', 'regenerate'],
    ])
  })

  it('announces the ref the row had when another server changed it after the load', async () => {
    const { store, sessions } = setup({ ref: user })
    const other = createSessions({ store, ref: user })
    const ended: SessionEvents['destroy'][] = []
    sessions.on('destroy', (e) => {
      ended.push(e)
    })
    const id = await stored(sessions, { user: 'cat' })
    const here = await sessions.load(id)
    const there = await other.load(id)
    there.set('user', 'dan')
    await other.commit(there)
    here.destroy()
    await sessions.commit(here)
    expect(store.hints).toEqual([{ ref: 'cat' }])
    expect(ended).toEqual([{ key: sessions.keyOf(id), ref: 'dan', reason: 'destroy' }])
    expect((await sessions.load(id)).isNew).toBe(true)
  })

  it('destroy by id has nothing read to pass; destroyByRef with except passes each found ref', async () => {
    const { store, sessions } = setup({ ref: user })
    const ids = [await stored(sessions, { user: 'eli' }), await stored(sessions, { user: 'eli' })]
    await sessions.destroy(ids[0]!)
    await sessions.destroyByRef('eli', { except: 'no-such-key' })
    expect(store.hints).toEqual([undefined, { ref: 'eli' }])
    expect(await sessions.count()).toBe(0)
  })
})

describe('filters and decode failures', () => {
  const xor = (id: string, byte: number, current = true): Filter => ({
    id,
    encode: (input) => ({ data: input.map((b) => b ^ byte), param: Uint8Array.of(current ? 1 : 0) }),
    decode: (input) => input.map((b) => b ^ byte),
    isCurrent: (param) => param[0] === 1,
  })

  it('encodes in list order and records each filter in the envelope', async () => {
    const { sessions, store } = setup({ filters: [xor('one', 1), xor('two', 2)] })
    const id = await stored(sessions, { a: 1 })
    const row = await store.read(sessions.keyOf(id))
    expect(parseEnvelope(row!.data).layers.map((l) => l.id)).toEqual(['one', 'two'])
    expect((await sessions.load(id)).data).toEqual({ a: 1 })
  })

  it('rewrites an unchanged session whose envelope is not current', async () => {
    const store = new CountingStore()
    const before = createSessions({ store, filters: [xor('one', 1, false)] })
    const id = await stored(before, { a: 1 })
    const after = createSessions({ store, filters: [xor('one', 1, true)] })
    expect((await after.commit(await after.load(id))).write).toBe('update')
    expect((await after.commit(await after.load(id))).write).toBe('none')
  })

  it('a payload that cannot be decoded gives a fresh session and an event, not an error', async () => {
    const { sessions, store } = setup()
    const errors: SessionEvents['decodeError'][] = []
    sessions.on('decodeError', (e) => {
      errors.push(e)
    })
    const id = await stored(sessions, { a: 1 })
    const key = sessions.keyOf(id)
    for (const junk of [
      Buffer.from('plain json {}'),
      Buffer.of(0x53, 9, 0),
      Buffer.of(0x53, 1, 3, 0x41),
      Buffer.of(),
    ]) {
      await store.write({ key, data: junk, ref: null, mode: 'upsert', ttl: 60_000 })
      const s = await sessions.load(id)
      expect(s.isNew).toBe(true)
    }
    expect(errors).toHaveLength(4)
    expect(errors.every((e) => e.error.code === 'E_DECODE')).toBe(true)
  })

  it('a payload needing a filter that is not configured is refused', async () => {
    const store = new MemoryStore()
    const id = await stored(createSessions({ store, filters: [xor('secret', 7)] }), { a: 1 })
    expect((await createSessions({ store }).load(id)).isNew).toBe(true)
  })
})

describe('events', () => {
  it('a throwing or rejecting listener is reported and never breaks the commit', async () => {
    const { sessions } = setup()
    const reported: unknown[] = []
    sessions.on('error', (e) => {
      reported.push(e.error)
    })
    sessions.on('destroy', () => {
      throw new Error('sync boom')
    })
    sessions.on('destroy', async () => {
      throw new Error('async boom')
    })
    const id = await stored(sessions, { a: 1 })
    const s = await sessions.load(id)
    s.destroy()
    await expect(sessions.commit(s)).resolves.toMatchObject({ cookie: 'clear' })
    expect(reported.map((e) => (e as Error).message).sort()).toEqual(['async boom', 'sync boom'])
  })
})

describe('options', () => {
  const store = new MemoryStore()
  const bad: [string, Record<string, unknown>, RegExp][] = [
    ['no store', {}, /store must implement/],
    ['bad idle', { store, idleTimeout: 'soon' }, /idleTimeout/],
    ['negative idle', { store, idleTimeout: -5 }, /idleTimeout/],
    ['absolute < idle', { store, idleTimeout: '1h', absoluteTimeout: '10m' }, /absoluteTimeout/],
    ['short secret', { store, secret: 'short' }, /at least 32 bytes/],
    ['secret type', { store, secret: 42 }, /secret must be/],
    ['idBytes < 16', { store, idBytes: 8 }, /idBytes/],
    ['filters type', { store, filters: 'gzip' }, /filters must be an array/],
    ['filter shape', { store, filters: [{}] }, /filters must contain/],
    ['ref type', { store, ref: 'userId' }, /ref must be a function/],
    ['touchShare', { store, touchShare: 2 }, /touchShare/],
    ['maxSize', { store, maxSize: 1.5 }, /maxSize/],
  ]
  for (const [name, opts, msg] of bad) {
    it(`refuses ${name} with E_OPTION`, () => {
      let err: unknown
      try {
        createSessions(opts as never)
      } catch (e) {
        err = e
      }
      expect(isSessionError(err) && err.code).toBe('E_OPTION')
      expect((err as Error).message).toMatch(msg)
    })
  }

  it('accepts 16-byte ids (128 bits) and makes them unique', async () => {
    const sessions = createSessions({ store, idBytes: 16 })
    const ids = new Set(Array.from({ length: 10_000 }, () => sessions.generateId()))
    expect(ids.size).toBe(10_000)
    for (const id of [...ids].slice(0, 10)) expect(Buffer.from(id, 'base64url')).toHaveLength(16)
  })
})
