// Over 300 lines on purpose: the conformance suite is one list of cases every store must pass, so a
// store author reads the whole contract in one place, in the order the contract states it.

import { randomBytes } from 'node:crypto'
import { setTimeout as sleep } from 'node:timers/promises'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { isSessionError } from '../errors.js'
import { type SessionStore, touchSlack, type WriteRequest } from '../store.js'

export interface DescribeStoreOptions {
  /** Skip the whole suite (e.g. the database is unreachable locally). */
  skip?: boolean
  /** Per-test timeout in ms. @default 30000 */
  timeout?: number
  /** Run the lease cases (serialised mode); `false` for a store without `lease`/`release`. @default true */
  lease?: boolean
  /** Whether two stores from `factory` share one table (false for in-process stores). @default true */
  shared?: boolean
}

const HOUR = 3_600_000
const bytes = (s: string): Uint8Array => new TextEncoder().encode(s)
const text = (b: Uint8Array): string => new TextDecoder().decode(b)
const uniq = (): string => randomBytes(16).toString('base64url')

/**
 * The store conformance suite. `factory` makes a store on a table (or namespace) the suite may
 * clear at will; it is called once for the suite and again wherever a test needs a second
 * "app server" on the same table.
 *
 * @example
 * describeStore('memory', () => new MemoryStore())
 */
export function describeStore(
  name: string,
  factory: () => SessionStore | Promise<SessionStore>,
  options: DescribeStoreOptions = {},
): void {
  const timeout = options.timeout ?? 30_000
  describe.skipIf(options.skip === true)(`SessionStore conformance: ${name}`, { timeout }, () => {
    let store: SessionStore
    const extra: SessionStore[] = []

    const put = (key: string, data: Uint8Array | string, more: Partial<WriteRequest> = {}) =>
      store.write({
        key,
        data: typeof data === 'string' ? bytes(data) : data,
        ref: null,
        mode: 'upsert',
        ttl: HOUR,
        ...more,
      })

    // A row that expires 1 ms after it is written, observed 30 ms later on any clock.
    const putExpired = async (key: string, ref: string | null = null) => {
      await put(key, 'x', { ttl: 1, ref })
    }
    const afterExpiry = () => sleep(40)

    beforeAll(async () => {
      store = await factory()
    }, 60_000)
    beforeEach(async () => {
      await store.clear()
    })
    afterAll(async () => {
      for (const s of extra) await s.close()
      await store?.close()
    })

    describe('read', () => {
      it('gives null for a key that was never written', async () => {
        expect(await store.read(uniq())).toBeNull()
      })

      it('round-trips data, ref and metadata of a new row', async () => {
        const key = uniq()
        const r = await put(key, '{"a":1}', { ref: 'user-1', mode: 'insert' })
        expect(r.ok).toBe(true)
        const row = await store.read(key)
        expect(row).not.toBeNull()
        expect(text(row!.data)).toBe('{"a":1}')
        expect(row!.key).toBe(key)
        expect(row!.ref).toBe('user-1')
        expect(row!.version).toBe(1)
        expect(row!.created.getTime()).toBeLessThanOrEqual(row!.modified.getTime())
        expect(row!.expiry.getTime()).toBeGreaterThan(row!.now.getTime())
      })

      it('reports the store clock, with expiry = now + ttl', async () => {
        const key = uniq()
        const r = await put(key, 'x', { ttl: 10 * 60_000 })
        const row = await store.read(key)
        const remaining = row!.expiry.getTime() - row!.now.getTime()
        expect(remaining).toBeGreaterThan(10 * 60_000 - 5_000)
        expect(remaining).toBeLessThanOrEqual(10 * 60_000)
        expect(r.ok && r.expiry.getTime()).toBe(row!.expiry.getTime())
      })

      it('round-trips every byte value', async () => {
        const key = uniq()
        const data = new Uint8Array(512).map((_, i) => i % 256)
        await put(key, data)
        expect(Buffer.from((await store.read(key))!.data).equals(Buffer.from(data))).toBe(true)
      })

      it('round-trips an empty payload', async () => {
        const key = uniq()
        await put(key, new Uint8Array(0))
        const row = await store.read(key)
        expect(row).not.toBeNull()
        expect(row!.data.byteLength).toBe(0)
      })

      it('round-trips a 1 MiB random payload', async () => {
        const key = uniq()
        const data = randomBytes(1024 * 1024)
        await put(key, data)
        const back = (await store.read(key))!.data
        expect(back.byteLength).toBe(data.length)
        expect(Buffer.from(back).equals(data)).toBe(true)
      })

      it('gives null for an expired row, never stale data', async () => {
        const key = uniq()
        await putExpired(key)
        await afterExpiry()
        expect(await store.read(key)).toBeNull()
      })

      it('returns a copy: changing the returned bytes does not change the row', async () => {
        const key = uniq()
        await put(key, 'abc')
        const first = await store.read(key)
        first!.data.fill(0)
        expect(text((await store.read(key))!.data)).toBe('abc')
      })
    })

    describe('keys', () => {
      it('treats keys as case-sensitive', async () => {
        await put('CaseKey', 'upper')
        await put('casekey', 'lower')
        expect(text((await store.read('CaseKey'))!.data)).toBe('upper')
        expect(text((await store.read('casekey'))!.data)).toBe('lower')
        expect(await store.read('CASEKEY')).toBeNull()
      })

      it('keeps near-identical keys apart (trailing space, accents, width)', async () => {
        const keys = ['near', 'near ', ' near', 'nëar', 'neár', 'ｎear', 'near\t']
        for (const k of keys) await put(k, k)
        for (const k of keys) expect(text((await store.read(k))!.data)).toBe(k)
      })

      it('stores unicode keys byte-exactly', async () => {
        await put('ключ-💡', 'a')
        expect(await store.read('КЛЮЧ-💡')).toBeNull()
        expect(text((await store.read('ключ-💡'))!.data)).toBe('a')
      })

      it('refuses an empty key with E_INVALID', async () => {
        await expect(store.read('')).rejects.toSatisfy((e) => isSessionError(e) && e.code === 'E_INVALID')
      })

      it('refuses lone surrogates in keys and refs: a driver would send U+FFFD and hit another row', async () => {
        const victim = `\ufffd-${uniq()}`
        await put(victim, 'victim', { ref: '\ufffd' })
        const invalid = (e: unknown) => isSessionError(e) && e.code === 'E_INVALID'
        const twin = victim.replace('\ufffd', '\ud800')
        await expect(store.read(twin)).rejects.toSatisfy(invalid)
        await expect(store.destroy(twin)).rejects.toSatisfy(invalid)
        await expect(store.destroyByRef('\udc00')).rejects.toSatisfy(invalid)
        await expect(put(uniq(), 'x', { ref: 'a\ud800' })).rejects.toSatisfy(invalid)
        expect(text((await store.read(victim))!.data)).toBe('victim')
      })
    })

    describe('write', () => {
      it('insert refuses an existing key and keeps its data', async () => {
        const key = uniq()
        await put(key, 'first', { mode: 'insert' })
        const r = await put(key, 'second', { mode: 'insert' })
        expect(r).toEqual({ ok: false, reason: 'exists' })
        expect(text((await store.read(key))!.data)).toBe('first')
      })

      it('update of a missing key creates nothing', async () => {
        const key = uniq()
        const r = await put(key, 'x', { mode: 'update' })
        expect(r).toEqual({ ok: false, reason: 'missing' })
        expect(await store.read(key)).toBeNull()
      })

      it('update never resurrects an expired session', async () => {
        const key = uniq()
        await putExpired(key)
        await afterExpiry()
        expect(await put(key, 'back', { mode: 'update' })).toEqual({ ok: false, reason: 'missing' })
        expect(await put(key, 'back', { mode: 'update', keepExpiry: true })).toEqual({
          ok: false,
          reason: 'missing',
        })
        expect(await store.read(key)).toBeNull()
      })

      it('update never resurrects a destroyed session', async () => {
        const key = uniq()
        await put(key, 'x', { mode: 'insert' })
        await store.destroy(key)
        expect(await put(key, 'back', { mode: 'update', version: 1 })).toEqual({
          ok: false,
          reason: 'missing',
        })
        expect(await store.read(key)).toBeNull()
      })

      it('upsert creates, then overwrites, bumping the version', async () => {
        const key = uniq()
        const a = await put(key, 'one')
        const b = await put(key, 'two')
        expect(a.ok && a.version).toBe(1)
        expect(b.ok && b.version).toBe(2)
        const row = await store.read(key)
        expect(text(row!.data)).toBe('two')
        expect(row!.version).toBe(2)
      })

      it('upsert over an expired row starts a new session', async () => {
        const key = uniq()
        await putExpired(key)
        await afterExpiry()
        const before = await store.now()
        await put(key, 'new')
        const row = await store.read(key)
        expect(text(row!.data)).toBe('new')
        expect(row!.version).toBe(1)
        expect(row!.created.getTime()).toBeGreaterThanOrEqual(before.getTime() - 1)
      })

      it('update keeps created and advances modified', async () => {
        const key = uniq()
        await put(key, 'a', { mode: 'insert' })
        const first = await store.read(key)
        await sleep(20)
        await put(key, 'b', { mode: 'update' })
        const second = await store.read(key)
        expect(second!.created.getTime()).toBe(first!.created.getTime())
        expect(second!.modified.getTime()).toBeGreaterThan(first!.modified.getTime())
      })

      it('update reports the expiry it stored, within touchSlack of now + ttl, and a shorter ttl moves it back', async () => {
        const key = uniq()
        await put(key, 'a', { mode: 'insert', ttl: HOUR })
        for (const data of ['b', 'c']) {
          const r = await put(key, data, { mode: 'update', ttl: HOUR })
          const row = await store.read(key)
          expect(text(row!.data)).toBe(data)
          expect(r.ok && r.expiry.getTime()).toBe(row!.expiry.getTime())
          const ahead = row!.expiry.getTime() - row!.now.getTime()
          expect(ahead).toBeLessThanOrEqual(HOUR)
          expect(ahead).toBeGreaterThan(HOUR - touchSlack(HOUR) - 1000)
        }
        const r = await put(key, 'd', { mode: 'update', ttl: 60_000 })
        const row = await store.read(key)
        expect(r.ok && r.expiry.getTime()).toBe(row!.expiry.getTime())
        expect(row!.expiry.getTime() - row!.now.getTime()).toBeLessThanOrEqual(60_000)
      })

      it('update with keepExpiry writes data and version but leaves the expiry, and reports it', async () => {
        const key = uniq()
        const first = await put(key, 'a', { mode: 'insert', ttl: HOUR })
        const before = await store.read(key)
        await sleep(20)
        // A ttl of one minute would pull the expiry an hour back; keepExpiry leaves it.
        const r = await put(key, 'b', { mode: 'update', ttl: 60_000, version: 1, keepExpiry: true })
        const row = await store.read(key)
        expect(text(row!.data)).toBe('b')
        expect(row!.version).toBe(2)
        expect(r.ok && r.version).toBe(2)
        expect(row!.modified.getTime()).toBeGreaterThan(before!.modified.getTime())
        expect(row!.expiry.getTime()).toBe(first.ok && first.expiry.getTime())
        expect(r.ok && r.expiry.getTime()).toBe(row!.expiry.getTime())
        // A stale version is still a conflict.
        expect(await put(key, 'c', { mode: 'update', version: 1, keepExpiry: true })).toEqual({
          ok: false,
          reason: 'conflict',
        })
        expect(text((await store.read(key))!.data)).toBe('b')
      })

      it('update with the current version succeeds', async () => {
        const key = uniq()
        await put(key, 'a', { mode: 'insert' })
        const r = await put(key, 'b', { mode: 'update', version: 1 })
        expect(r.ok && r.version).toBe(2)
      })

      it('update with a stale version is a conflict and changes nothing', async () => {
        const key = uniq()
        await put(key, 'a', { mode: 'insert' })
        await put(key, 'b', { mode: 'update', version: 1 })
        const r = await put(key, 'c', { mode: 'update', version: 1 })
        expect(r).toEqual({ ok: false, reason: 'conflict' })
        const row = await store.read(key)
        expect(text(row!.data)).toBe('b')
        expect(row!.version).toBe(2)
      })

      it('of 50 concurrent updates from one version exactly one wins', async () => {
        const key = uniq()
        await put(key, 'base', { mode: 'insert' })
        const results = await Promise.all(
          Array.from({ length: 50 }, (_, i) => put(key, `w${i}`, { mode: 'update', version: 1 })),
        )
        const winners = results.filter((r) => r.ok)
        expect(winners).toHaveLength(1)
        expect(results.filter((r) => !r.ok && r.reason === 'conflict')).toHaveLength(49)
        expect((await store.read(key))!.version).toBe(2)
      })

      it('100 concurrent writers to one key never error and leave one consistent row', async () => {
        const key = uniq()
        const payloads = Array.from(
          { length: 100 },
          (_, i) => `{"writer":${i},"pad":"${'x'.repeat(i * 10)}"}`,
        )
        const results = await Promise.all(payloads.map((p) => put(key, p)))
        expect(results.every((r) => r.ok)).toBe(true)
        const row = await store.read(key)
        expect(payloads).toContain(text(row!.data))
        expect(row!.version).toBe(100)
        const list = await store.list({ limit: 10 })
        expect(list.filter((r) => r.key === key)).toHaveLength(1)
      })

      it('100 concurrent inserts of distinct keys all land', async () => {
        const keys = Array.from({ length: 100 }, uniq)
        await Promise.all(keys.map((k) => put(k, k, { mode: 'insert' })))
        expect(await store.count()).toBe(100)
      })

      it('changing the ref moves the session between refs', async () => {
        const key = uniq()
        await put(key, 'a', { ref: 'alice' })
        await put(key, 'a', { ref: 'bob' })
        expect(await store.findByRef('alice')).toHaveLength(0)
        expect((await store.findByRef('bob')).map((s) => s.key)).toEqual([key])
        await put(key, 'a', { ref: null })
        expect(await store.findByRef('bob')).toHaveLength(0)
      })

      it('caps the expiry at created + maxAge', async () => {
        const key = uniq()
        await put(key, 'a', { mode: 'insert', ttl: HOUR, maxAge: 60_000 })
        const row = await store.read(key)
        expect(row!.expiry.getTime() - row!.created.getTime()).toBeLessThanOrEqual(60_000)
        await put(key, 'b', { mode: 'update', ttl: HOUR, maxAge: 60_000 })
        await store.touch({ key, ttl: HOUR, maxAge: 60_000 })
        const after = await store.read(key)
        expect(after!.expiry.getTime() - after!.created.getTime()).toBeLessThanOrEqual(60_000)
      })

      it('refuses a payload above maxDataBytes with E_TOO_LARGE and writes nothing', async () => {
        const key = uniq()
        const big = new Uint8Array(store.maxDataBytes + 1)
        await expect(put(key, big)).rejects.toSatisfy((e) => isSessionError(e) && e.code === 'E_TOO_LARGE')
        expect(await store.read(key)).toBeNull()
      })

      it('refuses malformed requests with E_INVALID', async () => {
        const bad: unknown[] = [
          { key: uniq(), data: 'not bytes', ref: null, mode: 'upsert', ttl: HOUR },
          { key: uniq(), data: bytes('x'), ref: null, mode: 'replace', ttl: HOUR },
          { key: uniq(), data: bytes('x'), ref: null, mode: 'upsert', ttl: -5 },
          { key: uniq(), data: bytes('x'), ref: 42, mode: 'upsert', ttl: HOUR },
          { key: 'x'.repeat(300), data: bytes('x'), ref: null, mode: 'upsert', ttl: HOUR },
          { key: uniq(), data: bytes('x'), ref: null, mode: 'update', ttl: HOUR, keepExpiry: 'yes' },
        ]
        for (const req of bad) {
          await expect(store.write(req as WriteRequest)).rejects.toSatisfy(
            (e) => isSessionError(e) && e.code === 'E_INVALID',
          )
        }
        expect(await store.count()).toBe(0)
      })
    })

    describe('touch', () => {
      it('moves the expiry and leaves data, version and modified alone', async () => {
        const key = uniq()
        await put(key, 'keep', { ttl: 60_000 })
        const before = await store.read(key)
        await sleep(20)
        expect(await store.touch({ key, ttl: HOUR })).toBe(true)
        const after = await store.read(key)
        expect(text(after!.data)).toBe('keep')
        expect(after!.version).toBe(before!.version)
        expect(after!.modified.getTime()).toBe(before!.modified.getTime())
        expect(after!.expiry.getTime()).toBeGreaterThan(before!.expiry.getTime() + 30 * 60_000)
      })

      it('repeated touches all report the live row and keep the expiry within touchSlack of now + ttl', async () => {
        const key = uniq()
        await put(key, 'keep', { ttl: HOUR })
        for (let i = 0; i < 3; i++) {
          expect(await store.touch({ key, ttl: HOUR })).toBe(true)
          const row = await store.read(key)
          const ahead = row!.expiry.getTime() - row!.now.getTime()
          expect(ahead).toBeLessThanOrEqual(HOUR)
          // The read runs a moment after the touch: allow it a second on a loaded machine.
          expect(ahead).toBeGreaterThan(HOUR - touchSlack(HOUR) - 1000)
        }
        // A ttl shorter by more than the slack moves the expiry back.
        expect(await store.touch({ key, ttl: 60_000 })).toBe(true)
        const row = await store.read(key)
        expect(row!.expiry.getTime() - row!.now.getTime()).toBeLessThanOrEqual(60_000)
      })

      it('is false for a missing key and creates nothing', async () => {
        const key = uniq()
        expect(await store.touch({ key, ttl: HOUR })).toBe(false)
        expect(await store.read(key)).toBeNull()
      })

      it('never revives an expired session', async () => {
        const key = uniq()
        await putExpired(key)
        await afterExpiry()
        expect(await store.touch({ key, ttl: HOUR })).toBe(false)
        expect(await store.read(key)).toBeNull()
      })
    })

    describe.skipIf(options.lease === false)('lease (serialised mode)', () => {
      const take = (key: string, token: string, ttl = 10_000) => {
        if (!store.lease) throw new Error(`store ${store.name} has no lease(); pass { lease: false }`)
        return store.lease({ key, token, ttl })
      }
      const free = (key: string, token: string) => {
        if (!store.release) throw new Error(`store ${store.name} has no release()`)
        return store.release(key, token)
      }

      it('reads the row while taking its lease, and changes nothing else', async () => {
        const key = uniq()
        await put(key, 'leased', { ref: 'u1' })
        const before = await store.read(key)
        const r = await take(key, 'tok-a')
        expect(r.ok).toBe(true)
        if (!r.ok) return
        expect(text(r.row.data)).toBe('leased')
        expect(r.row.ref).toBe('u1')
        expect(r.row.version).toBe(before!.version)
        expect(r.row.expiry.getTime()).toBe(before!.expiry.getTime())
        expect(Math.abs(r.row.now.getTime() - before!.now.getTime())).toBeLessThan(5_000)
        const after = await store.read(key)
        expect(after!.version).toBe(before!.version)
        expect(after!.modified.getTime()).toBe(before!.modified.getTime())
      })

      it('is missing for a key never written, expired or destroyed', async () => {
        expect(await take(uniq(), 'tok-a')).toEqual({ ok: false, reason: 'missing' })
        const expired = uniq()
        await putExpired(expired)
        await afterExpiry()
        expect(await take(expired, 'tok-a')).toEqual({ ok: false, reason: 'missing' })
        const gone = uniq()
        await put(gone, 'x')
        expect((await take(gone, 'tok-a')).ok).toBe(true)
        await store.destroy(gone)
        expect(await take(gone, 'tok-b')).toEqual({ ok: false, reason: 'missing' })
        expect(await store.read(gone)).toBeNull()
      })

      it('refuses a second token while held, with the time left; the holder may take it again', async () => {
        const key = uniq()
        await put(key, 'x')
        expect((await take(key, 'tok-a', 60_000)).ok).toBe(true)
        const other = await take(key, 'tok-b')
        expect(other.ok).toBe(false)
        if (other.ok || other.reason !== 'held') throw new Error('expected held')
        expect(other.wait).toBeGreaterThan(50_000)
        expect(other.wait).toBeLessThanOrEqual(60_000)
        expect((await take(key, 'tok-a')).ok).toBe(true)
      })

      it('release frees it for the next token; a wrong token releases nothing', async () => {
        const key = uniq()
        await put(key, 'x')
        expect((await take(key, 'tok-a')).ok).toBe(true)
        expect(await free(key, 'tok-b')).toBe(false)
        expect((await take(key, 'tok-b')).ok).toBe(false)
        expect(await free(key, 'tok-a')).toBe(true)
        expect(await free(key, 'tok-a')).toBe(false)
        expect((await take(key, 'tok-b')).ok).toBe(true)
        expect(await free(uniq(), 'tok-b')).toBe(false)
      })

      it('a lease nobody releases lapses after its ttl (store clock)', async () => {
        const key = uniq()
        await put(key, 'x')
        expect((await take(key, 'dead-holder', 300)).ok).toBe(true)
        expect((await take(key, 'tok-b')).ok).toBe(false)
        await sleep(450)
        expect((await take(key, 'tok-b')).ok).toBe(true)
      })

      it('an update or touch given the token releases the lease in the same statement', async () => {
        const key = uniq()
        const w = await put(key, 'v1')
        if (!w.ok) throw new Error('seed failed')
        expect((await take(key, 'tok-a')).ok).toBe(true)
        const u = await store.write({
          key,
          data: bytes('v2'),
          ref: null,
          mode: 'update',
          ttl: HOUR,
          version: w.version,
          lease: 'tok-a',
        })
        expect(u.ok).toBe(true)
        const r = await take(key, 'tok-b')
        expect(r.ok).toBe(true)
        if (r.ok) expect(text(r.row.data)).toBe('v2')
        // The same with keepExpiry (its own statement in the SQL stores).
        const k = await store.write({
          key,
          data: bytes('v3'),
          ref: null,
          mode: 'update',
          ttl: HOUR,
          lease: 'tok-b',
          keepExpiry: true,
        })
        expect(k.ok).toBe(true)
        const r2 = await take(key, 'tok-d')
        expect(r2.ok).toBe(true)
        if (r2.ok) expect(text(r2.row.data)).toBe('v3')
        expect(await store.touch({ key, ttl: HOUR, lease: 'tok-d' })).toBe(true)
        expect((await take(key, 'tok-c')).ok).toBe(true)
      })

      it('a write or touch by another token (or none) leaves the lease with its holder', async () => {
        const key = uniq()
        await put(key, 'v1')
        expect((await take(key, 'tok-a')).ok).toBe(true)
        expect((await store.write({ key, data: bytes('v2'), ref: null, mode: 'update', ttl: HOUR })).ok).toBe(
          true,
        )
        expect(await store.touch({ key, ttl: HOUR, lease: 'tok-b' })).toBe(true)
        expect((await put(key, 'v3', { lease: 'tok-b' })).ok).toBe(true)
        expect((await take(key, 'tok-b')).ok).toBe(false)
        expect((await take(key, 'tok-a')).ok).toBe(true)
      })

      it('of 20 tokens racing for one free lease exactly one gets it', async () => {
        const key = uniq()
        await put(key, 'x')
        const results = await Promise.all(Array.from({ length: 20 }, (_, i) => take(key, `racer-${i}`)))
        expect(results.filter((r) => r.ok)).toHaveLength(1)
        expect(results.filter((r) => !r.ok && r.reason === 'held')).toHaveLength(19)
      })

      it.skipIf(options.shared === false)("two stores on one table see each other's leases", async () => {
        const key = uniq()
        await put(key, 'x')
        const other = await factory()
        extra.push(other)
        expect((await take(key, 'tok-a')).ok).toBe(true)
        const r = await other.lease?.({ key, token: 'tok-b', ttl: 10_000 })
        expect(r?.ok).toBe(false)
        expect(await other.release?.(key, 'tok-a')).toBe(true)
        expect((await other.lease?.({ key, token: 'tok-b', ttl: 10_000 }))?.ok).toBe(true)
      })

      it('refuses malformed tokens and ttls with E_INVALID', async () => {
        const key = uniq()
        await put(key, 'x')
        for (const [token, ttl] of [
          ['', 1000],
          ['x'.repeat(65), 1000],
          ['with space', 1000],
          ['ok', 0],
          ['ok', 1.5],
        ] as const) {
          const e = await take(key, token, ttl).catch((err: unknown) => err)
          expect(isSessionError(e) && e.code === 'E_INVALID').toBe(true)
        }
        const e = await free(key, '').catch((err: unknown) => err)
        expect(isSessionError(e) && e.code === 'E_INVALID').toBe(true)
      })
    })

    describe('destroy', () => {
      it('returns the key and ref of the deleted row', async () => {
        const key = uniq()
        await put(key, 'x', { ref: 'carol' })
        expect(await store.destroy(key)).toEqual({ key, ref: 'carol' })
        expect(await store.read(key)).toBeNull()
      })

      it('is idempotent: a second destroy is null, not an error', async () => {
        const key = uniq()
        await put(key, 'x')
        await store.destroy(key)
        expect(await store.destroy(key)).toBeNull()
        expect(await store.destroy(uniq())).toBeNull()
      })

      it('removes only its own key', async () => {
        const a = uniq()
        const b = uniq()
        await put(a, 'a')
        await put(b, 'b')
        await store.destroy(a)
        expect(text((await store.read(b))!.data)).toBe('b')
      })

      it('concurrent destroys of one key report it exactly once', async () => {
        const key = uniq()
        await put(key, 'x', { ref: 'r' })
        const results = await Promise.all(Array.from({ length: 10 }, () => store.destroy(key)))
        expect(results.filter((r) => r !== null)).toHaveLength(1)
      })

      it('given the ref read with the row, reports that ref and deletes the row', async () => {
        const named = uniq()
        const anonymous = uniq()
        await put(named, 'x', { ref: 'dave' })
        await put(anonymous, 'x')
        expect(await store.destroy(named, { ref: 'dave' })).toEqual({ key: named, ref: 'dave' })
        expect(await store.destroy(anonymous, { ref: null })).toEqual({ key: anonymous, ref: null })
        expect(await store.read(named)).toBeNull()
        expect(await store.read(anonymous)).toBeNull()
        expect(await store.destroy(named, { ref: 'dave' })).toBeNull()
      })

      it('given a stale ref (another writer changed it), reports the ref the row had', async () => {
        const a = uniq()
        const b = uniq()
        const c = uniq()
        await put(a, 'x', { ref: 'erin' })
        await put(b, 'x')
        await put(c, 'x', { ref: 'gus' })
        expect(await store.destroy(a, { ref: null })).toEqual({ key: a, ref: 'erin' })
        expect(await store.destroy(b, { ref: 'erin' })).toEqual({ key: b, ref: null })
        expect(await store.destroy(c, { ref: 'Gus' })).toEqual({ key: c, ref: 'gus' })
        for (const k of [a, b, c]) expect(await store.read(k)).toBeNull()
        expect(await store.destroy(uniq(), { ref: 'erin' })).toBeNull()
      })

      it('concurrent destroys with and without hints report the row exactly once', async () => {
        const key = uniq()
        await put(key, 'x', { ref: 'r' })
        const results = await Promise.all(
          Array.from({ length: 12 }, (_, i) =>
            store.destroy(key, i % 3 === 0 ? undefined : { ref: i % 3 === 1 ? 'r' : 'stale' }),
          ),
        )
        expect(results.filter((r) => r !== null)).toEqual([{ key, ref: 'r' }])
      })

      it('refuses a malformed hint with E_INVALID and keeps the row', async () => {
        const key = uniq()
        await put(key, 'x', { ref: 'r' })
        for (const hint of [null, 'r', { ref: '' }, { ref: 7 }, {}]) {
          const e = await store.destroy(key, hint as never).catch((err: unknown) => err)
          expect(isSessionError(e) && e.code === 'E_INVALID').toBe(true)
        }
        expect(await store.read(key)).not.toBeNull()
      })
    })

    describe('sweep', () => {
      it('deletes only expired rows and returns their key and ref', async () => {
        const live = uniq()
        const dead = uniq()
        await put(live, 'live', { ref: 'l' })
        await putExpired(dead, 'd')
        await afterExpiry()
        expect(await store.sweep(100)).toEqual([{ key: dead, ref: 'd' }])
        expect(await store.read(live)).not.toBeNull()
        expect(await store.sweep(100)).toEqual([])
      })

      it('is bounded by its limit and drains in batches, each row once', async () => {
        const keys = Array.from({ length: 25 }, uniq)
        await Promise.all(keys.map((k) => putExpired(k)))
        await afterExpiry()
        const first = await store.sweep(10)
        expect(first).toHaveLength(10)
        const seen = [...first]
        for (;;) {
          const batch = await store.sweep(10)
          expect(batch.length).toBeLessThanOrEqual(10)
          if (batch.length === 0) break
          seen.push(...batch)
        }
        expect(seen.map((r) => r.key).sort()).toEqual([...keys].sort())
      })

      it('hands each expired row to exactly one of several concurrent sweepers', async () => {
        const others = await Promise.all([factory(), factory(), factory()])
        extra.push(...others)
        const sweepers = [store, ...others]
        const keys = Array.from({ length: 200 }, uniq)
        await Promise.all(keys.map((k, i) => putExpired(k, `ref-${i % 7}`)))
        await afterExpiry()
        const seen: string[] = []
        await Promise.all(
          sweepers.map(async (s) => {
            for (;;) {
              const batch = await s.sweep(15)
              if (batch.length === 0) return
              seen.push(...batch.map((b) => b.key))
            }
          }),
        )
        expect(seen).toHaveLength(200)
        expect(new Set(seen).size).toBe(200)
      })

      it('refuses a limit that is not a positive whole number', async () => {
        for (const bad of [0, -1, 1.5, Number.NaN]) {
          await expect(store.sweep(bad)).rejects.toSatisfy((e) => isSessionError(e) && e.code === 'E_INVALID')
        }
      })
    })

    describe('queries', () => {
      it('findByRef lists live sessions of the ref only, oldest first, without data', async () => {
        const a = uniq()
        const b = uniq()
        await put(a, 'a', { ref: 'dave' })
        await sleep(15)
        await put(b, 'b', { ref: 'dave' })
        await put(uniq(), 'c', { ref: 'erin' })
        await putExpired(uniq(), 'dave')
        await afterExpiry()
        const rows = await store.findByRef('dave')
        expect(rows.map((r) => r.key)).toEqual([a, b])
        expect(rows[0]).not.toHaveProperty('data')
        expect(rows[0]!.ref).toBe('dave')
        expect(rows[0]!.expiry).toBeInstanceOf(Date)
      })

      it('destroyByRef deletes every session of the ref and reports each', async () => {
        const mine = [uniq(), uniq(), uniq()]
        const other = uniq()
        for (const k of mine) await put(k, 'x', { ref: 'frank' })
        await put(other, 'y', { ref: 'grace' })
        const gone = await store.destroyByRef('frank')
        expect(gone.map((g) => g.key).sort()).toEqual([...mine].sort())
        expect(gone.every((g) => g.ref === 'frank')).toBe(true)
        for (const k of mine) expect(await store.read(k)).toBeNull()
        expect(await store.read(other)).not.toBeNull()
        expect(await store.destroyByRef('frank')).toEqual([])
      })

      it('count counts live sessions only', async () => {
        await put(uniq(), 'a')
        await put(uniq(), 'b')
        await putExpired(uniq())
        await afterExpiry()
        expect(await store.count()).toBe(2)
      })

      it('refs lists distinct refs of live sessions, sorted and limited', async () => {
        await put(uniq(), 'a', { ref: 'zed' })
        await put(uniq(), 'a', { ref: 'amy' })
        await put(uniq(), 'a', { ref: 'amy' })
        await put(uniq(), 'a', { ref: null })
        await putExpired(uniq(), 'ghost')
        await afterExpiry()
        expect(await store.refs(100)).toEqual(['amy', 'zed'])
        expect(await store.refs(1)).toEqual(['amy'])
      })

      it('list pages through live sessions by key', async () => {
        const keys = Array.from({ length: 7 }, (_, i) => `page-${i}`)
        for (const k of keys) await put(k, k)
        await putExpired('page-dead')
        await afterExpiry()
        const first = await store.list({ limit: 4 })
        const second = await store.list({ limit: 4, after: first[first.length - 1]!.key })
        const all = [...first, ...second].map((r) => r.key)
        expect(all).toEqual(keys)
        expect(text(first[0]!.data)).toBe('page-0')
      })

      it('clear removes every row', async () => {
        await put(uniq(), 'a')
        await put(uniq(), 'b', { ref: 'x' })
        await store.clear()
        expect(await store.count()).toBe(0)
        expect(await store.refs(10)).toEqual([])
      })

      it('now() follows the store clock', async () => {
        const a = await store.now()
        await sleep(30)
        const b = await store.now()
        expect(b.getTime() - a.getTime()).toBeGreaterThanOrEqual(20)
        expect(b.getTime() - a.getTime()).toBeLessThan(5_000)
      })
    })
  })
}
