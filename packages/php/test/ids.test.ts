import { isSessionError, MemoryStore } from '@sessile/core'
import { describe, expect, it } from 'vitest'
import { phpIds, phpSessions } from '../src/index.js'

const error = (fn: () => unknown) => {
  try {
    fn()
  } catch (e) {
    return e
  }
  throw new Error('expected a throw')
}

describe('phpIds', () => {
  it.each([
    [4, 32, /^[0-9a-f]{32}$/],
    [5, 26, /^[0-9a-v]{26}$/],
    [6, 22, /^[0-9a-zA-Z,-]{22}$/],
  ] as const)('%i bits per character, %i characters: PHP’s alphabet and length', (per, length, shape) => {
    const f = phpIds({ bitsPerCharacter: per, sidLength: length })
    expect(f.bits).toBe(per * length)
    const seen = new Set<string>()
    const chars = new Set<string>()
    for (let i = 0; i < 2000; i++) {
      const id = f.generate()
      expect(id).toMatch(shape)
      expect(f.test(id)).toBe(true)
      seen.add(id)
      for (const c of id) chars.add(c)
    }
    expect(seen.size).toBe(2000)
    // Every character of the alphabet turns up: the mapping uses the whole alphabet.
    expect(chars.size).toBe(2 ** per)
  })

  it('refuses the wrong length, characters outside the alphabet and base64url ids', () => {
    const f = phpIds()
    const id = f.generate()
    expect(f.test(id.slice(1))).toBe(false)
    expect(f.test(`${id}a`)).toBe(false)
    expect(f.test(`${id.slice(1)}w`)).toBe(false)
    expect(f.test(`${id.slice(1)}_`)).toBe(false)
    expect(f.test(id.toUpperCase())).toBe(id === id.toUpperCase())
  })

  it('refuses configurations under 128 bits unless allowed, and PHP’s out-of-range settings', () => {
    for (const o of [{ sidLength: 24, bitsPerCharacter: 5 }, { sidLength: 21 }, { bitsPerCharacter: 3 }]) {
      const e = error(() => phpIds(o as never))
      expect(isSessionError(e) && e.code).toBe('E_OPTION')
    }
    expect(phpIds({ sidLength: 26, bitsPerCharacter: 4, allowWeak: true }).bits).toBe(104)
    // The manager still requires 122 bits.
    const e = error(() =>
      phpSessions({
        store: new MemoryStore(),
        ids: phpIds({ sidLength: 26, bitsPerCharacter: 4, allowWeak: true }),
      }),
    )
    expect(isSessionError(e) && e.code).toBe('E_OPTION')
  })
})

describe('phpSessions', () => {
  it('issues PHP ids and accepts no other shape', async () => {
    const s = phpSessions({ store: new MemoryStore() })
    const session = await s.load(null)
    expect(session.id).toMatch(/^[0-9a-v]{32}$/)
    expect(s.isWellFormedId('a'.repeat(32))).toBe(true)
    expect(s.isWellFormedId('A'.repeat(43))).toBe(false)
  })
  it('refuses secret (hashed keys) and filters with E_OPTION', () => {
    for (const extra of [
      { secret: 'x'.repeat(40) },
      { filters: [{ id: 'f', encode: async () => ({}), decode: async () => ({}) }] },
    ]) {
      const e = error(() => phpSessions({ store: new MemoryStore(), ...(extra as object) }))
      expect(isSessionError(e) && e.code).toBe('E_OPTION')
      expect(isSessionError(e) && e.message).toMatch(/PHP/)
    }
  })
})
