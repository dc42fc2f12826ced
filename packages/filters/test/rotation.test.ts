import { MemoryStore, parseEnvelope } from '@sessile/core'
import { describe, expect, it } from 'vitest'
import { aesGcm, brotli, gzip } from '../src/index.js'
import { harness, newKey, rawRow, save } from './_helpers.js'

const k1 = newKey()
const k2 = newKey()

const layersOf = (payload: Uint8Array) =>
  parseEnvelope(payload).layers.map((l) => [l.id, Buffer.from(l.param).toString('latin1')])

// Large and repetitive enough that both compressors actually compress it.
const data = {
  user: 'ada',
  cart: Array.from({ length: 50 }, (_, i) => ({ sku: `SKU-${i}`, qty: i % 3, note: 'gift wrap please' })),
}

describe('changing the filter list and rotating keys', () => {
  it('reads [gzip, aes k1] payloads under [brotli, aes k2+k1] and rewrites them under k2 on commit', async () => {
    const store = new MemoryStore()
    const before = harness([gzip(), aesGcm({ keys: { k1 }, current: 'k1' })], store)
    const { id, key } = await save(before, data)
    expect(layersOf(await rawRow(store, key))).toEqual([
      ['gzip', '\u0001'],
      ['aes-256-gcm', 'k1'],
    ])

    const after = harness([brotli(), aesGcm({ keys: { k2, k1 }, current: 'k2' })], store)
    const s = await after.sessions.load(id)
    expect(s.isNew).toBe(false)
    expect(s.data).toEqual(data)
    // Still as it was written: reading alone changes nothing.
    expect(layersOf(await rawRow(store, key))).toEqual([
      ['gzip', '\u0001'],
      ['aes-256-gcm', 'k1'],
    ])

    // The data did not change, yet the commit rewrites because the envelope is not current.
    const result = await after.sessions.commit(s)
    expect(result.write).toBe('update')
    expect(result.id).toBe(id)
    expect(layersOf(await rawRow(store, key))).toEqual([
      ['brotli', '\u0001'],
      ['aes-256-gcm', 'k2'],
    ])

    // Now k1 can be retired: a keyring without it reads the rewritten session.
    const retired = harness([brotli(), aesGcm({ keys: { k2 }, current: 'k2' })], store)
    expect((await retired.sessions.load(id)).data).toEqual(data)
    // A current payload is not rewritten again.
    const again = await retired.sessions.commit(await retired.sessions.load(id))
    expect(again.write).not.toBe('update')
    expect([...before.decodeErrors, ...after.decodeErrors, ...retired.decodeErrors]).toEqual([])
  })

  it('retires a key the documented way: the old encryptor in decoders, the new one in filters', async () => {
    const store = new MemoryStore()
    const old = harness([aesGcm({ keys: { k1 }, current: 'k1' })], store)
    const { id, key } = await save(old, { user: 'ada' })
    // Both filters have the id aes-256-gcm: the current one must not hide the retired one.
    const after = harness([aesGcm({ keys: { k2 }, current: 'k2' })], store, {
      decoders: [aesGcm({ keys: { k1 }, current: 'k1' })],
    })
    const s = await after.sessions.load(id)
    expect(s.isNew).toBe(false)
    expect(s.data).toEqual({ user: 'ada' })
    expect((await after.sessions.commit(s)).write).toBe('update')
    expect(layersOf(await rawRow(store, key))).toEqual([['aes-256-gcm', 'k2']])
    // A payload under a key neither knows is still refused (fail-closed).
    const stranger = harness([aesGcm({ keys: { k3: newKey() }, current: 'k3' })], store)
    const other = await save(stranger, { user: 'mallory' })
    expect((await after.sessions.load(other.id)).isNew).toBe(true)
    expect(after.decodeErrors).toHaveLength(1)
  })

  it('keeps k1 sessions readable while a k2 manager writes new ones beside them', async () => {
    const store = new MemoryStore()
    const old = harness([aesGcm({ keys: { k1 }, current: 'k1' })], store)
    const a = await save(old, { n: 1 })
    const rotated = harness([aesGcm({ keys: { k2, k1 }, current: 'k2' })], store)
    const b = await save(rotated, { n: 2 })
    expect(layersOf(await rawRow(store, b.key))).toEqual([['aes-256-gcm', 'k2']])
    expect((await rotated.sessions.load(a.id)).data).toEqual({ n: 1 })
    expect((await rotated.sessions.load(b.id)).data).toEqual({ n: 2 })
    // A server still on the old config cannot read k2 payloads: it reports and starts fresh.
    expect((await old.sessions.load(b.id)).isNew).toBe(true)
    expect(old.decodeErrors).toHaveLength(1)
  })

  it('reads compressed payloads after compression is dropped from the list', async () => {
    const store = new MemoryStore()
    const { id, key } = await save(harness([brotli(), aesGcm({ keys: { k1 }, current: 'k1' })], store), data)
    const plain = harness([aesGcm({ keys: { k1 }, current: 'k1' })], store)
    const s = await plain.sessions.load(id)
    expect(s.data).toEqual(data)
    await plain.sessions.commit(s)
    expect(layersOf(await rawRow(store, key))).toEqual([['aes-256-gcm', 'k1']])
  })

  it('turns encryption on for existing plaintext sessions with acceptUnencrypted, then off', async () => {
    const store = new MemoryStore()
    const { id, key } = await save(harness([gzip()], store), data)
    const strict = harness([gzip(), aesGcm({ keys: { k1 }, current: 'k1' })], store)
    const migrating = harness(
      [gzip(), aesGcm({ keys: { k1 }, current: 'k1', acceptUnencrypted: true })],
      store,
    )
    const s = await migrating.sessions.load(id)
    expect(s.data).toEqual(data)
    await migrating.sessions.commit(s)
    expect(layersOf(await rawRow(store, key))).toEqual([
      ['gzip', '\u0001'],
      ['aes-256-gcm', 'k1'],
    ])
    expect((await strict.sessions.load(id)).data).toEqual(data)
    expect(strict.decodeErrors).toEqual([])
  })
})
