import { createDecipheriv } from 'node:crypto'
import { brotliDecompressSync, gunzipSync } from 'node:zlib'
import { describe, expect, it } from 'vitest'
import { aesGcm, brotli, gzip } from '../src/index.js'
import { harness, newKey, rawRow, save } from './_helpers.js'

/**
 * A decoder written only from the "Payload format" section of the README, with node:crypto and
 * node:zlib. It shares no code with the package, so it proves the documentation is complete.
 */
function readmeDecode(payload: Buffer, storageKey: string, keyring: Record<string, Buffer>): string {
  if (payload[0] !== 0x53 || payload[1] !== 0x01) throw new Error('not a version 1 envelope')
  const entries: { id: string; param: Buffer; end: number }[] = []
  let at = 2
  while (payload[at] !== 0x00) {
    const idLength = payload[at] as number
    const id = payload.subarray(at + 1, at + 1 + idLength).toString('latin1')
    const paramLength = payload[at + 1 + idLength] as number
    const param = payload.subarray(at + 2 + idLength, at + 2 + idLength + paramLength)
    at = at + 2 + idLength + paramLength
    entries.push({ id, param, end: at })
  }
  let data = payload.subarray(at + 1)
  for (const entry of entries.reverse()) {
    if (entry.id === 'gzip' || entry.id === 'brotli') {
      if (entry.param[0] === 0x01) {
        data =
          entry.id === 'gzip'
            ? gunzipSync(data, { maxOutputLength: 1 << 20 })
            : brotliDecompressSync(data, { maxOutputLength: 1 << 20 })
      } else if (entry.param[0] !== 0x00) throw new Error('bad compression flag')
    } else if (entry.id === 'aes-256-gcm') {
      const key = keyring[entry.param.toString('latin1')]
      if (!key) throw new Error('unknown key id')
      const aad = Buffer.concat([
        payload.subarray(0, entry.end),
        Buffer.of(0xff),
        Buffer.from(storageKey, 'utf8'),
      ])
      const decipher = createDecipheriv('aes-256-gcm', key, data.subarray(0, 12), { authTagLength: 16 })
      decipher.setAAD(aad)
      decipher.setAuthTag(data.subarray(data.length - 16))
      data = Buffer.concat([decipher.update(data.subarray(12, data.length - 16)), decipher.final()])
    } else {
      throw new Error(`unknown filter ${entry.id}`)
    }
  }
  return data.toString('utf8')
}

const k1 = newKey()
const k2 = newKey()
const data = {
  userId: 42,
  name: 'Zoë 🐙',
  history: Array.from({ length: 80 }, (_, i) => `/products/${i}?ref=home`),
}

describe('an independent decoder built from the README', () => {
  it.each([
    ['gzip, aes', () => [gzip(), aesGcm({ keys: { k1 }, current: 'k1' })]],
    ['brotli, aes (k2 current)', () => [brotli(), aesGcm({ keys: { k2, k1 }, current: 'k2' })]],
    ['aes, gzip', () => [aesGcm({ keys: { k1 }, current: 'k1' }), gzip({ threshold: 0 })]],
    ['aes only', () => [aesGcm({ keys: { k1 }, current: 'k1' })]],
    ['gzip only', () => [gzip()]],
    ['brotli, gzip (second one stores)', () => [brotli(), gzip({ threshold: 0 })]],
    ['no filters', () => []],
  ])('decrypts and decompresses what [%s] wrote', async (_name, filters) => {
    const h = harness(filters())
    const { key } = await save(h, data)
    const stored = await rawRow(h.store, key)
    expect(JSON.parse(readmeDecode(stored, key, { k1, k2 }))).toEqual(data)
  })

  it('works with a hashed storage key (secret set), binding the key column not the cookie id', async () => {
    const h = harness([gzip(), aesGcm({ keys: { k1 }, current: 'k1' })], undefined, {
      secret: 'a server secret that is at least 32 bytes long',
    })
    const { id, key } = await save(h, data)
    expect(key).not.toBe(id)
    const stored = await rawRow(h.store, key)
    expect(JSON.parse(readmeDecode(stored, key, { k1 }))).toEqual(data)
    expect(() => readmeDecode(stored, id, { k1 })).toThrow()
  })

  it('matches the worked example header byte for byte', async () => {
    const h = harness([gzip(), aesGcm({ keys: { k1 }, current: 'k1' })])
    const { key } = await save(h, data)
    const stored = await rawRow(h.store, key)
    const example = '53 01 04 67 7a 69 70 01 01 0b 61 65 73 2d 32 35 36 2d 67 63 6d 02 6b 31 00'
    expect(stored.subarray(0, 25).toString('hex').match(/../g)?.join(' ')).toBe(example)
  })
})
