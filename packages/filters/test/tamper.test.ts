import { createCipheriv, randomBytes } from 'node:crypto'
import { type Filter, isSessionError, parseEnvelope } from '@sessile/core'
import { describe, expect, it } from 'vitest'
import { aesGcm, brotli, gzip } from '../src/index.js'
import { decode, encode, harness, newKey, plant, rawRow, save } from './_helpers.js'

const k1 = newKey()
const k2 = newKey()
const enc = () => aesGcm({ keys: { k1, k2 }, current: 'k1' })

const stacks: [string, () => Filter[]][] = [
  ['[aes]', () => [enc()]],
  ['[gzip, aes]', () => [gzip({ threshold: 0 }), enc()]],
  ['[aes, brotli]', () => [enc(), brotli({ threshold: 0 })]],
]

const data = { user: 'ada', admin: false, csrf: 'c5f1' }
const plain = Buffer.from(JSON.stringify(data))

async function rejects(filters: Filter[], payload: Uint8Array, key = 'session-key'): Promise<boolean> {
  try {
    await decode(filters, payload, key)
    return false
  } catch (e) {
    return isSessionError(e) && e.code === 'E_DECODE'
  }
}

function flips(payload: Buffer): Buffer[] {
  const out: Buffer[] = []
  for (let bit = 0; bit < payload.length * 8; bit++) {
    const copy = Buffer.from(payload)
    copy[bit >> 3] = (copy[bit >> 3] as number) ^ (1 << (bit & 7))
    out.push(copy)
  }
  return out
}

/** The body of an [aes] payload split into its parts. */
function parts(payload: Buffer) {
  const { bodyOffset } = parseEnvelope(payload)
  const body = payload.subarray(bodyOffset)
  return { header: payload.subarray(0, bodyOffset), body, tag: body.subarray(body.length - 16) }
}

describe.each(stacks)('tampering with %s', (_name, make) => {
  it('reads the untampered payload (control)', async () => {
    const filters = make()
    expect(Buffer.from(await decode(filters, await encode(filters, plain))).equals(plain)).toBe(true)
  })

  it('rejects every single-bit flip anywhere in the envelope', async () => {
    const filters = make()
    const payload = Buffer.from(await encode(filters, plain))
    const variants = flips(payload)
    expect(variants.length).toBe(payload.length * 8)
    const accepted: number[] = []
    for (const [bit, variant] of variants.entries()) {
      if (!(await rejects(filters, variant))) accepted.push(bit)
    }
    expect(accepted).toEqual([])
  })

  it('rejects every truncation of the envelope', async () => {
    const filters = make()
    const payload = Buffer.from(await encode(filters, plain))
    for (let length = 0; length < payload.length; length++) {
      expect(await rejects(filters, payload.subarray(0, length)), `length ${length}`).toBe(true)
    }
  })

  it('rejects the payload under another session key', async () => {
    const filters = make()
    const payload = await encode(filters, plain, 'key-a')
    expect(await rejects(filters, payload, 'key-a')).toBe(false)
    expect(await rejects(filters, payload, 'key-b')).toBe(true)
    expect(await rejects(filters, payload, 'key-a ')).toBe(true)
  })
})

describe('tampering with [aes]', () => {
  it.each([4, 8, 12])('rejects the real tag truncated to %i bytes', async (n) => {
    const filters = [enc()]
    const payload = Buffer.from(await encode(filters, plain))
    const truncated = payload.subarray(0, payload.length - (16 - n))
    expect(await rejects(filters, truncated)).toBe(true)
  })

  it.each([4, 8, 12])('rejects a correct %i-byte tag that a lax decoder would accept', async (n) => {
    // Built by hand with the real key: iv || ciphertext || the first n bytes of the real tag.
    // Node checks a tag of that length unless authTagLength pins it to 16.
    const filters = [enc()]
    const payload = Buffer.from(await encode(filters, plain))
    const { header } = parts(payload)
    const iv = randomBytes(12)
    const cipher = createCipheriv('aes-256-gcm', k1, iv, { authTagLength: n })
    cipher.setAAD(
      Buffer.concat([header.subarray(0, header.length - 1), Buffer.of(0xff), Buffer.from('session-key')]),
    )
    const ct = Buffer.concat([cipher.update(plain), cipher.final()])
    const forged = Buffer.concat([header, iv, ct, cipher.getAuthTag()])
    expect(cipher.getAuthTag().length).toBe(n)
    expect(await rejects(filters, forged)).toBe(true)
  })

  it('rejects a payload relabelled with another key id, even one holding the same key bytes', async () => {
    const writer = [aesGcm({ keys: { k1 }, current: 'k1' })]
    const payload = Buffer.from(await encode(writer, plain))
    const relabelled = Buffer.from(payload.toString('latin1').replace('\u0002k1', '\u0002k2'), 'latin1')
    expect(relabelled.equals(payload)).toBe(false)
    expect(await rejects([enc()], relabelled)).toBe(true)
    // k2 holds exactly k1's bytes: only the key id in the associated data tells them apart.
    const sameBytes = [aesGcm({ keys: { k2: k1 }, current: 'k2' })]
    expect(await rejects(sameBytes, relabelled)).toBe(true)
  })

  it.each([0x00, 0x02, 0xff])('rejects the format version changed to %i', async (version) => {
    const filters = [enc()]
    const payload = Buffer.from(await encode(filters, plain))
    payload[1] = version
    expect(await rejects(filters, payload)).toBe(true)
  })

  it('rejects a payload stripped of encryption (plaintext or compressed-only envelopes)', async () => {
    const filters = [gzip(), enc()]
    const forged = [
      await encode([], plain),
      await encode([gzip({ threshold: 0 })], plain),
      await encode([brotli({ threshold: 0 })], plain),
    ]
    for (const payload of forged) expect(await rejects(filters, payload)).toBe(true)
  })

  it('reads unencrypted payloads only with acceptUnencrypted (migration)', async () => {
    const payload = await encode([gzip()], plain)
    const lax = [gzip(), aesGcm({ keys: { k1 }, current: 'k1', acceptUnencrypted: true })]
    expect(Buffer.from(await decode(lax, payload)).equals(plain)).toBe(true)
  })

  it('rejects a reordered header over the same body', async () => {
    const filters = [gzip({ threshold: 0 }), enc()]
    const payload = Buffer.from(await encode(filters, plain))
    const { layers, bodyOffset } = parseEnvelope(payload)
    const [g, a] = layers
    if (!g || !a) throw new Error('two layers expected')
    const entry = (id: string, param: Uint8Array) =>
      Buffer.from([id.length, ...Buffer.from(id), param.length, ...param])
    const reordered = Buffer.concat([
      Buffer.of(0x53, 0x01),
      entry(a.id, a.param),
      entry(g.id, g.param),
      Buffer.of(0),
      payload.subarray(bodyOffset),
    ])
    expect(await rejects(filters, reordered)).toBe(true)
  })
})

describe('through the manager: tampered rows give a fresh session and a decodeError', () => {
  async function expectFresh(h: ReturnType<typeof harness>, id: string, key: string, count: number) {
    const s = await h.sessions.load(id)
    expect(s.isNew).toBe(true)
    expect(s.id).not.toBe(id)
    expect(s.data).toEqual({})
    expect(h.decodeErrors).toHaveLength(count)
    expect(h.decodeErrors.at(-1)?.key).toBe(key)
    expect(h.decodeErrors.at(-1)?.error.code).toBe('E_DECODE')
  }

  it('every bit flip of a stored [gzip, aes] row', async () => {
    const h = harness([gzip({ threshold: 0 }), enc()])
    const { id, key } = await save(h, data)
    const original = await rawRow(h.store, key)
    let count = 0
    for (const variant of flips(original)) {
      await plant(h.store, key, variant)
      await expectFresh(h, id, key, ++count)
    }
    await plant(h.store, key, original)
    expect((await h.sessions.load(id)).data).toEqual(data)
  })

  it('truncated tags, a downgraded version, a stripped layer, and garbage', async () => {
    const h = harness([enc()])
    const { id, key } = await save(h, data)
    const original = await rawRow(h.store, key)
    const downgraded = Buffer.from(original)
    downgraded[1] = 0
    const variants = [
      original.subarray(0, original.length - 12),
      original.subarray(0, original.length - 8),
      original.subarray(0, original.length - 4),
      downgraded,
      Buffer.from(await encode([], Buffer.from(JSON.stringify({ user: 'ada', admin: true })))),
      Buffer.from('{"user":"ada","admin":true}'),
      Buffer.alloc(0),
      randomBytes(64),
    ]
    let count = 0
    for (const variant of variants) {
      await plant(h.store, key, variant)
      await expectFresh(h, id, key, ++count)
    }
  })

  it('a row copied into another session', async () => {
    const h = harness([gzip(), enc()])
    const a = await save(h, { user: 'admin' })
    const b = await save(h, { user: 'mallory' })
    await plant(h.store, b.key, await rawRow(h.store, a.key))
    await expectFresh(h, b.id, b.key, 1)
    expect((await h.sessions.load(a.id)).data).toEqual({ user: 'admin' })
  })

  it('a row written under a key that was removed from the keyring', async () => {
    const store = harness([]).store
    const old = harness([aesGcm({ keys: { k1 }, current: 'k1' })], store)
    const { id, key } = await save(old, data)
    const h = harness([aesGcm({ keys: { k2 }, current: 'k2' })], store)
    await expectFresh(h, id, key, 1)
    expect(String(h.decodeErrors[0]?.error.cause)).toContain('"k1"')
  })
})

// docs/reliability.md, "Threat model": write access to the table can put back an older payload of
// the same row (replay is not detected), but cannot move a payload to another session.
describe('what write access to the table allows under [aes], as the threat model states', () => {
  it('an older payload of the same key still decrypts; the same payload under another key does not', async () => {
    const filters = [enc()]
    const older = await encode(filters, Buffer.from('{"role":"admin"}'), 'row-1')
    const newer = await encode(filters, Buffer.from('{"role":"user"}'), 'row-1')
    expect(Buffer.from(await decode(filters, newer, 'row-1')).toString()).toBe('{"role":"user"}')
    expect(Buffer.from(await decode(filters, older, 'row-1')).toString()).toBe('{"role":"admin"}')
    expect(await rejects(filters, older, 'row-2')).toBe(true)
  })
})
