import { randomBytes } from 'node:crypto'
import { brotliCompressSync, constants, gzipSync } from 'node:zlib'
import { COMPRESSED, decodeCompressed, isSessionError, parseEnvelope, STORED } from '@sessile/core'
import { describe, expect, it } from 'vitest'
import { brotli, gzip } from '../src/index.js'
import { decode, encode, harness, jsonLike, MiB, plant, rawRow, save } from './_helpers.js'

const kinds = [
  ['gzip', gzip, (b: Buffer) => gzipSync(b)],
  [
    'brotli',
    brotli,
    (b: Buffer) => brotliCompressSync(b, { params: { [constants.BROTLI_PARAM_QUALITY]: 1 } }),
  ],
] as const

describe.each(kinds)('%s', (kind, make, rawCompress) => {
  it('compresses a compressible payload above the threshold and marks it', async () => {
    const plain = jsonLike(4096)
    const payload = await encode([make()], plain)
    const { layers, bodyOffset } = parseEnvelope(payload)
    expect(layers.map((l) => [l.id, [...l.param]])).toEqual([[kind, [COMPRESSED]]])
    expect(payload.byteLength - bodyOffset).toBeLessThan(plain.byteLength / 2)
    expect(Buffer.from(await decode([make()], payload)).equals(plain)).toBe(true)
  })

  it('stores incompressible data as is, so it never grows', async () => {
    const plain = randomBytes(8192)
    const payload = await encode([make()], plain)
    const { layers, bodyOffset } = parseEnvelope(payload)
    expect([...(layers[0]?.param ?? [])]).toEqual([STORED])
    expect(Buffer.from(payload).subarray(bodyOffset).equals(plain)).toBe(true)
  })

  it('does not try below the threshold, and does at or above it', async () => {
    const plain = jsonLike(600)
    const below = parseEnvelope(await encode([make({ threshold: 601 })], plain))
    const at = parseEnvelope(await encode([make({ threshold: 600 })], plain))
    expect([...(below.layers[0]?.param ?? [])]).toEqual([STORED])
    expect([...(at.layers[0]?.param ?? [])]).toEqual([COMPRESSED])
  })

  it('uses the default threshold of 1024 bytes', async () => {
    const small = Buffer.from('a'.repeat(1023))
    const big = Buffer.from('a'.repeat(1024))
    expect([...(parseEnvelope(await encode([make()], small)).layers[0]?.param ?? [])]).toEqual([STORED])
    expect([...(parseEnvelope(await encode([make()], big)).layers[0]?.param ?? [])]).toEqual([COMPRESSED])
  })

  it('handles an empty payload', async () => {
    const payload = await encode([make({ threshold: 0 })], new Uint8Array(0))
    expect([...(parseEnvelope(payload).layers[0]?.param ?? [])]).toEqual([STORED])
    expect((await decode([make()], payload)).byteLength).toBe(0)
  })

  it('writes exactly what core’s built-in decoder reads, with no filters configured', async () => {
    const plain = jsonLike(5000)
    const payload = await encode([make()], plain)
    const { layers, bodyOffset } = parseEnvelope(payload)
    const layer = layers[0]
    if (!layer) throw new Error('no layer')
    const body = Buffer.from(payload).subarray(bodyOffset)
    expect(Buffer.from(decodeCompressed(kind, body, layer.param, MiB)).equals(plain)).toBe(true)
    expect(Buffer.from(await decode([], payload)).equals(plain)).toBe(true)
  })

  it('refuses to inflate past maxSize (a compression bomb) with E_DECODE', async () => {
    const bomb = rawCompress(Buffer.alloc(64 * MiB))
    expect(bomb.byteLength).toBeLessThan(MiB / 8)
    const filter = make()
    const context = { key: 'k', maxSize: MiB, aad: new Uint8Array(0) }
    let error: unknown
    try {
      await filter.decode(bomb, Uint8Array.of(COMPRESSED), context)
    } catch (e) {
      error = e
    }
    expect(isSessionError(error) && error.code).toBe('E_DECODE')
    // Exactly at the limit still decodes.
    const edge = rawCompress(Buffer.alloc(MiB, 7))
    expect((await filter.decode(edge, Uint8Array.of(COMPRESSED), context)).byteLength).toBe(MiB)
  })

  it('turns a bomb planted in the store into a fresh session and a decodeError', async () => {
    const h = harness([make()], undefined, { maxSize: MiB })
    const { id, key } = await save(h, { user: 'ada', note: 'x'.repeat(1000) })
    const header = Buffer.from([0x53, 0x01, kind.length, ...Buffer.from(kind), 1, COMPRESSED, 0])
    const bomb = rawCompress(Buffer.from(`{"a":"${'a'.repeat(8 * MiB)}"}`))
    await plant(h.store, key, Buffer.concat([header, bomb]))
    const s = await h.sessions.load(id)
    expect(s.isNew).toBe(true)
    expect(s.id).not.toBe(id)
    expect(h.decodeErrors).toHaveLength(1)
    expect(h.decodeErrors[0]?.error.code).toBe('E_DECODE')
  })

  it('rejects an unknown or malformed compression flag', async () => {
    const filter = make()
    const context = { key: 'k', maxSize: MiB, aad: new Uint8Array(0) }
    for (const param of [Uint8Array.of(2), Uint8Array.of(), Uint8Array.of(1, 1)]) {
      await expect(async () => filter.decode(Buffer.from('x'), param, context)).rejects.toSatisfy(
        (e: unknown) => isSessionError(e) && e.code === 'E_DECODE',
      )
    }
  })

  it('rejects a truncated compressed body', async () => {
    const payload = Buffer.from(await encode([make()], jsonLike(4000)))
    await expect(decode([make()], payload.subarray(0, payload.length - 10))).rejects.toSatisfy(
      (e: unknown) => isSessionError(e) && e.code === 'E_DECODE',
    )
  })

  it('shrinks a JSON session through the manager and reads it back', async () => {
    const h = harness([make()])
    const data = { items: Array.from({ length: 200 }, (_, i) => ({ i, name: `item ${i}` })) }
    const { id, key } = await save(h, data)
    const stored = await rawRow(h.store, key)
    expect(stored.length).toBeLessThan(JSON.stringify(data).length / 2)
    expect((await h.sessions.load(id)).data).toEqual(data)
  })
})

it('gzip level and brotli quality change the output', async () => {
  const plain = jsonLike(64 * 1024)
  const sizes = async (filters: Parameters<typeof encode>[0][]) =>
    Promise.all(filters.map(async (f) => (await encode(f, plain)).byteLength))
  const [g1, g9] = await sizes([[gzip({ level: 1 })], [gzip({ level: 9 })]])
  const [b0, b11] = await sizes([[brotli({ quality: 0 })], [brotli({ quality: 11 })]])
  expect(g9).toBeLessThan(g1 as number)
  expect(b11).toBeLessThan(b0 as number)
})
