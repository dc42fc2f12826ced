/**
 * Regression tests for the outside security review (issue #27): each fails on the code before
 * the fix. The SQL stores get the same attacks in packages/reliability/test/security.test.ts.
 */
import { describe, expect, it } from 'vitest'
import { createSessions, deserialize, isSessionError, MemoryStore, type SessionData } from '../src/index.js'

const NEW = 'the-new-server-secret-32-bytes-long!!'
const OLD = 'the-old-server-secret-32-bytes-long!!'
const userOf = (d: SessionData) => (typeof d.user === 'string' ? d.user : null)

async function stored(sessions: ReturnType<typeof createSessions>, data: SessionData): Promise<string> {
  const r = await sessions.commit(sessions.create(data))
  expect(r.write).toBe('insert')
  return r.id
}

describe('secret rotation: every operation that takes an id acts on the row under any configured secret', () => {
  it('destroy(id) ends a session stored under the old secret', async () => {
    const store = new MemoryStore()
    const id = await stored(createSessions({ store, secret: OLD }), { user: 'ann' })
    const rotated = createSessions({ store, secret: [NEW, OLD] })
    expect((await rotated.load(id)).data).toEqual({ user: 'ann' })
    const gone = await rotated.destroy(id)
    expect(gone?.key).toBe(createSessions({ store, secret: OLD }).keyOf(id))
    expect((await rotated.load(id)).isNew).toBe(true)
    expect(await store.count()).toBe(0)
  })

  it('destroy(id) ends a session stored under the new secret too, and keysOf lists both keys', async () => {
    const store = new MemoryStore()
    const rotated = createSessions({ store, secret: [NEW, OLD] })
    const id = await stored(rotated, { user: 'bob' })
    expect(rotated.keysOf(id)).toEqual([rotated.keyOf(id), createSessions({ store, secret: OLD }).keyOf(id)])
    expect(await rotated.destroy(id)).not.toBeNull()
    expect(await store.count()).toBe(0)
    expect(rotated.keysOf('not an id')).toEqual([])
  })

  it('regenerate of a session loaded under the old secret removes the old row', async () => {
    const store = new MemoryStore()
    const id = await stored(createSessions({ store, secret: OLD }), { user: 'cy' })
    const rotated = createSessions({ store, secret: [NEW, OLD] })
    const s = await rotated.load(id)
    s.regenerate()
    const r = await rotated.commit(s)
    expect(r.cookie).toBe('set')
    expect((await rotated.load(id)).isNew).toBe(true)
    expect((await rotated.load(r.id)).data).toEqual({ user: 'cy' })
    expect(await store.count()).toBe(1)
  })
})

describe('a regenerate never outlives a destroy that happened after the load', () => {
  for (const serialize of [false, true]) {
    const mode = serialize ? 'serialised mode' : 'default mode'
    it(`${mode}: logout between load and a regenerating commit`, async () => {
      const store = new MemoryStore()
      const sessions = createSessions({
        store,
        ref: userOf,
        serialize: serialize && { lease: '2s', wait: '1s' },
      })
      const id = await stored(sessions, { user: 'dee', cart: 3 })
      const a = await sessions.load(id)
      // Logout elsewhere: in serialised mode it waits for nobody (the destroy takes no lease).
      await sessions.destroy(id)
      a.regenerate()
      const r = await sessions.commit(a)
      expect(r.cookie).toBe('clear')
      expect(r.write).toBe('none')
      expect(await store.count()).toBe(0)
      expect(await sessions.findByRef('dee')).toEqual([])
    })

    it(`${mode}: "log out everywhere" (destroyByRef) between load and a regenerating commit`, async () => {
      const store = new MemoryStore()
      const sessions = createSessions({
        store,
        ref: userOf,
        serialize: serialize && { lease: '2s', wait: '1s' },
      })
      const id = await stored(sessions, { user: 'eve', devices: ['a'] })
      const a = await sessions.load(id)
      expect(await sessions.destroyByRef('eve')).toHaveLength(1)
      a.regenerate()
      expect((await sessions.commit(a)).cookie).toBe('clear')
      expect(await sessions.findByRef('eve')).toEqual([])
      // The session object is over: a later commit of it writes nothing.
      expect((await sessions.commit(a)).write).toBe('none')
      expect(await store.count()).toBe(0)
    })
  }
})

describe('secrets: a missing or weak secret is refused, never silently off', () => {
  const store = new MemoryStore()
  it.each([
    ['undefined (an unset environment variable)', undefined, /secret is undefined.*environment variable/],
    ['null', null, /secret is null/],
    ['an empty string', '', /secret is empty/],
    ['an empty list', [], /empty list/],
    ['a list holding undefined', [NEW, undefined], /secret is undefined/],
    ["'a'.repeat(32)", 'a'.repeat(32), /too regular/],
    ['32 zero bytes', new Uint8Array(32), /too regular/],
    ['a repeated 4-byte pattern', 'abcd'.repeat(10), /too regular/],
    ['few distinct characters', '0101010110101100101101010100101011', /too regular/],
  ])('%s', (_name, secret, message) => {
    let error: unknown
    try {
      createSessions({ store, secret: secret as never })
    } catch (e) {
      error = e
    }
    expect(isSessionError(error) && error.code).toBe('E_OPTION')
    expect(String(error)).toMatch(message)
  })

  it('no secret option at all still means raw keys, and strong secrets are accepted', () => {
    expect(createSessions({ store }).keyOf('x'.repeat(43))).toBe('x'.repeat(43))
    expect(() => createSessions({ store, secret: NEW })).not.toThrow()
    expect(() =>
      createSessions({ store, secret: Buffer.from('q'.repeat(8) + 'Zx9!kLmN0pQrStUv2wXyZ-_1') }),
    ).not.toThrow()
  })
})

describe('session data whose JSON is not an object, and escaped __proto__ keys', () => {
  for (const [name, value] of [
    ['a string', 'logged-in'],
    ['null', null],
    ['an array', ['a']],
    ['undefined', undefined],
  ] as const) {
    it(`a top-level toJSON returning ${name} is refused with E_SERIALIZE and nothing is stored`, async () => {
      const store = new MemoryStore()
      const sessions = createSessions({ store })
      const s = sessions.create({ user: 'fay' })
      ;(s.data as Record<string, unknown>).toJSON = () => value
      const error = await sessions.commit(s).catch((e: unknown) => e)
      expect(isSessionError(error) && error.code).toBe('E_SERIALIZE')
      expect(await store.count()).toBe(0)
    })
  }

  it('an escaped "\\u005f_proto__" key in a stored payload never becomes a prototype', () => {
    for (const text of ['{"\\u005f_proto__":{"admin":true}}', '{"__pr\\u006fto__":{"admin":true},"a":1}']) {
      const data = deserialize(Buffer.from(text))
      expect(Object.hasOwn(data, '__proto__')).toBe(false)
      const target: Record<string, unknown> = {}
      Object.assign(target, data)
      expect((target as { admin?: boolean }).admin).toBeUndefined()
      expect(Object.getPrototypeOf(target)).toBe(Object.prototype)
    }
  })
})
