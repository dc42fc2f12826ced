/** The manager's parts on their own: the merge of concurrent writes and the payload codec. */
import { describe, expect, it } from 'vitest'
import { Codec, isEmptyObject } from '../src/_internal/manager/codec.js'
import { storeCaller } from '../src/_internal/manager/context.js'
import { merge } from '../src/_internal/manager/merge.js'
import { builtinDecoders } from '../src/_internal/zlib.js'
import { PLAIN_HEADER } from '../src/envelope.js'
import { isSessionError } from '../src/errors.js'
import { Emitter, type SessionEvents } from '../src/events.js'
import { MemoryStore } from '../src/memory-store.js'
import { resolveOptions } from '../src/options.js'
import type { ReadResult } from '../src/store.js'

describe('merge(base, ours, theirs)', () => {
  it('keeps fields only we changed and fields only they changed', () => {
    const base = { a: 1, b: 1 }
    expect(merge(base, { a: 2, b: 1 }, { a: 1, b: 3 })).toEqual({ a: 2, b: 3 })
  })
  it('applies our deletions and additions, leaves their new fields alone', () => {
    expect(merge({ a: 1, b: 1 }, { b: 1, c: 5 }, { a: 1, b: 1, d: 9 })).toEqual({ b: 1, c: 5, d: 9 })
  })
  it('the later save wins a field both changed; deep values compare by JSON', () => {
    expect(merge({ n: { x: 1 } }, { n: { x: 2 } }, { n: { x: 3 } })).toEqual({ n: { x: 2 } })
    expect(merge({ n: { x: 1 } }, { n: { x: 1 } }, { n: { x: 3 } })).toEqual({ n: { x: 3 } })
  })
})

describe('Codec', () => {
  const row = (data: Uint8Array): ReadResult => {
    const now = new Date()
    return { key: 'k', data, ref: null, created: now, modified: now, expiry: now, version: 1, now }
  }
  const codecOf = (maxSize = 1024) => {
    const events = new Emitter<SessionEvents>()
    const errors: unknown[] = []
    events.on('decodeError', (e) => {
      errors.push(e.error)
    })
    const o = resolveOptions({ store: new MemoryStore(), maxSize }, builtinDecoders)
    return { codec: new Codec(o, events), errors }
  }

  it('encodes without filters straight into the stored envelope, and decodes it in one step', () => {
    const { codec } = codecOf()
    const p = codec.encode({ a: 1 })
    expect(Buffer.from(p.payload as Uint8Array).toString()).toBe(`${PLAIN_HEADER}{"a":1}`)
    expect(Buffer.from(p.plain).toString()).toBe('{"a":1}')
    const d = codec.decodePlain(row(p.payload as Uint8Array))
    expect(d?.data).toEqual({ a: 1 })
    expect(d?.current).toBe(true)
  })

  it('refuses data over maxSize with E_TOO_LARGE', () => {
    const { codec } = codecOf(16)
    const error = (() => {
      try {
        codec.encode({ text: 'x'.repeat(32) })
      } catch (e) {
        return e
      }
    })()
    expect(isSessionError(error) && error.code).toBe('E_TOO_LARGE')
  })

  it('a payload that is no envelope is reported as a decodeError and gives null', async () => {
    const { codec, errors } = codecOf()
    expect(await codec.decode(row(Buffer.from('not an envelope')))).toBeNull()
    expect(errors).toHaveLength(1)
  })

  it('isEmptyObject is true for {} only', () => {
    expect(isEmptyObject(Buffer.from('{}'))).toBe(true)
    expect(isEmptyObject(Buffer.from('{"a":1}'))).toBe(false)
  })
})

describe('storeCaller', () => {
  it('wraps a failure, thrown or rejected, as E_STORE naming the manager and the store', async () => {
    const call = storeCaller(new MemoryStore())
    for (const fn of [
      () => Promise.reject(new Error('boom')),
      () => {
        throw new Error('boom')
      },
    ]) {
      const e = await call('read', fn as () => Promise<never>).catch((x: unknown) => x)
      expect(isSessionError(e) && e.code).toBe('E_STORE')
      expect(String(e)).toBe('SessionError: [sessile] [sessions:memory] read failed: boom')
    }
  })
})

describe('sessions.list', () => {
  it('pages through live sessions decoded, leaving out rows that do not decode', async () => {
    const { createSessions } = await import('../src/manager.js')
    const store = new MemoryStore()
    const sessions = createSessions({ store })
    for (let i = 0; i < 5; i++) await sessions.commit(sessions.create({ n: i }))
    await store.write({
      key: 'z-broken',
      data: Buffer.from('garbage'),
      ref: null,
      mode: 'insert',
      ttl: 60_000,
    })
    const seen: number[] = []
    let after: string | undefined
    let pages = 0
    do {
      const page = await sessions.list({ limit: 2, after })
      pages++
      for (const s of page.sessions) seen.push(s.data.n as number)
      after = page.next
    } while (after !== undefined)
    expect(seen.sort()).toEqual([0, 1, 2, 3, 4])
    // Six rows, two a page: the third page is full, so a fourth (empty) one ends the walk.
    expect(pages).toBe(4)
  })
})
