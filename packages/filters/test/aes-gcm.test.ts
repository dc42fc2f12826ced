import { isSessionError, parseEnvelope } from '@sessile/core'
import { describe, expect, it } from 'vitest'
import { aesGcm, gzip } from '../src/index.js'
import { decode, encode, harness, jsonLike, newKey, rawRow, save } from './_helpers.js'

const k1 = newKey()
const k2 = newKey()

describe('aesGcm', () => {
  it('writes iv(12) || ciphertext || tag(16) with the key id as param', async () => {
    const plain = Buffer.from('{"user":"ada"}')
    const payload = Buffer.from(await encode([aesGcm({ keys: { k1 }, current: 'k1' })], plain))
    const { layers, bodyOffset } = parseEnvelope(payload)
    expect(layers.map((l) => [l.id, Buffer.from(l.param).toString('latin1')])).toEqual([
      ['aes-256-gcm', 'k1'],
    ])
    expect(payload.subarray(0, bodyOffset)).toEqual(
      Buffer.from([0x53, 0x01, 11, ...Buffer.from('aes-256-gcm'), 2, ...Buffer.from('k1'), 0x00]),
    )
    expect(payload.length - bodyOffset).toBe(12 + plain.length + 16)
    expect(payload.includes(plain)).toBe(false)
    expect(payload.includes(Buffer.from('ada'))).toBe(false)
  })

  it('uses a fresh IV for every encryption', async () => {
    const filters = [aesGcm({ keys: { k1 }, current: 'k1' })]
    const plain = Buffer.from('same input every time')
    const ivs = new Set<string>()
    const bodies = new Set<string>()
    for (let i = 0; i < 500; i++) {
      const payload = Buffer.from(await encode(filters, plain))
      const body = payload.subarray(parseEnvelope(payload).bodyOffset)
      ivs.add(body.subarray(0, 12).toString('hex'))
      bodies.add(body.toString('hex'))
    }
    expect(ivs.size).toBe(500)
    expect(bodies.size).toBe(500)
  })

  it('encrypts empty and large payloads', async () => {
    const filters = [aesGcm({ keys: { k1 }, current: 'k1' })]
    for (const plain of [Buffer.alloc(0), Buffer.from(jsonLike(1024 * 1024))]) {
      const payload = await encode(filters, plain)
      expect(payload.byteLength - parseEnvelope(payload).bodyOffset).toBe(plain.length + 28)
      expect(Buffer.from(await decode(filters, payload)).equals(plain)).toBe(true)
    }
  })

  it('is current only for payloads under the current key', () => {
    const f = aesGcm({ keys: { k1, k2 }, current: 'k2' })
    expect(f.isCurrent?.(Buffer.from('k2'))).toBe(true)
    expect(f.isCurrent?.(Buffer.from('k1'))).toBe(false)
    expect(f.isCurrent?.(Buffer.from('k22'))).toBe(false)
    expect(f.isCurrent?.(new Uint8Array(0))).toBe(false)
  })

  it('requires its layer unless acceptUnencrypted is set', () => {
    expect(aesGcm({ keys: { k1 }, current: 'k1' }).required).toBe(true)
    expect(aesGcm({ keys: { k1 }, current: 'k1', acceptUnencrypted: true }).required).toBe(false)
  })

  it('names the missing key when a payload uses a key that is not in the keyring', async () => {
    const payload = await encode([aesGcm({ keys: { k1 }, current: 'k1' })], Buffer.from('x'))
    const error = await decode([aesGcm({ keys: { k2 }, current: 'k2' })], payload).catch((e: unknown) => e)
    expect(isSessionError(error) && error.code).toBe('E_DECODE')
    expect(String((error as Error).cause)).toContain('"k1", which is not in the keyring')
  })

  it('stores a session that is not plaintext and reads it back', async () => {
    const h = harness([gzip(), aesGcm({ keys: { k1 }, current: 'k1' })])
    const data = { user: 'ada@example.com', roles: ['admin'], csrf: 'token-123' }
    const { id, key } = await save(h, data)
    const row = await rawRow(h.store, key)
    for (const needle of ['ada@example.com', 'admin', 'token-123', 'roles']) {
      expect(row.includes(Buffer.from(needle))).toBe(false)
    }
    const s = await h.sessions.load(id)
    expect(s.isNew).toBe(false)
    expect(s.data).toEqual(data)
    expect(h.decodeErrors).toEqual([])
  })
})
