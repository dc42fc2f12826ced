import { randomBytes } from 'node:crypto'
import {
  createSessions,
  decodeEnvelope,
  encodeEnvelope,
  generateId,
  isSessionError,
  MemoryStore,
  MIN_ID_BYTES,
  parseEnvelope,
} from '@sessile/core'
import { aesGcm, gzip } from '@sessile/filters'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { figure } from '../src/figures.js'

const SECTION = 'Ids and crypto'
const MILLION = 1_000_000

describe('ids', () => {
  it('1,000,000 ids from a manager with default options: no duplicate, each 256 random bits', () => {
    const sessions = createSessions({ store: new MemoryStore() })
    const seen = new Set<string>()
    let shortest = Number.POSITIVE_INFINITY
    for (let i = 0; i < MILLION; i++) {
      const id = sessions.generateId()
      seen.add(id)
      shortest = Math.min(shortest, Buffer.from(id, 'base64url').length * 8)
    }
    const duplicates = MILLION - seen.size
    figure({
      section: SECTION,
      name: 'duplicate ids in 1,000,000 (default idBytes)',
      value: duplicates,
      target: '0',
    })
    figure({ section: SECTION, name: 'bits per id (default)', value: shortest, target: '≥ 128' })
    expect(duplicates).toBe(0)
    expect(shortest).toBe(256)
  })

  it('1,000,000 ids at the smallest allowed size (128 bits): no duplicate, and smaller is refused', () => {
    const seen = new Set<string>()
    for (let i = 0; i < MILLION; i++) seen.add(generateId(MIN_ID_BYTES))
    const sample = generateId(MIN_ID_BYTES)
    figure({
      section: SECTION,
      name: 'duplicate ids in 1,000,000 (idBytes 16)',
      value: MILLION - seen.size,
      target: '0',
    })
    expect(seen.size).toBe(MILLION)
    expect(Buffer.from(sample, 'base64url').length * 8).toBe(128)
    expect(() => createSessions({ store: new MemoryStore(), idBytes: 15 })).toThrow(/128 bits/)
    // Bits look random: over 1,000,000 ids every bit position is set about half the time.
    const ones = new Array<number>(128).fill(0)
    let n = 0
    for (const id of seen) {
      if (n++ >= 100_000) break
      const b = Buffer.from(id, 'base64url')
      for (let bit = 0; bit < 128; bit++)
        if ((b[bit >> 3] as number) & (1 << (bit & 7))) ones[bit] = (ones[bit] ?? 0) + 1
    }
    const worst = Math.max(...ones.map((c) => Math.abs(c / 100_000 - 0.5)))
    figure({
      section: SECTION,
      name: 'largest bias of one id bit over 100,000 ids',
      value: worst,
      target: '< 0.01',
    })
    expect(worst).toBeLessThan(0.01)
  })
})

describe('AES-256-GCM', () => {
  const key = randomBytes(32)
  const enc = aesGcm({ keys: { k1: key }, current: 'k1' })

  it('1,000,000 encryptions repeat no IV', async () => {
    const plain = Buffer.from('{"user":"ann"}')
    const seen = new Set<string>()
    for (let i = 0; i < MILLION; i++) {
      const payload = await encodeEnvelope([enc], plain, 'session-key', 1024)
      const { bodyOffset } = parseEnvelope(payload)
      seen.add(Buffer.from(payload.subarray(bodyOffset, bodyOffset + 12)).toString('base64'))
    }
    const repeats = MILLION - seen.size
    figure({
      section: SECTION,
      name: 'repeated AES-GCM IVs in 1,000,000 encryptions',
      value: repeats,
      target: '0',
    })
    expect(repeats).toBe(0)
  })

  it('tampered payloads are never accepted (10,000 random tampers)', async () => {
    let accepted = 0
    let tried = 0
    const filters = [gzip(), enc]
    await fc.assert(
      fc.asyncProperty(
        fc.uint8Array({ minLength: 0, maxLength: 600 }),
        fc.nat(),
        fc.constantFrom('flip', 'truncate', 'extend', 'swap-key', 'strip'),
        async (data, where, how) => {
          const plain = Buffer.from(JSON.stringify({ d: Buffer.from(data).toString('base64') }))
          const payload = Buffer.from(await encodeEnvelope(filters, plain, 'key-a', 1 << 20))
          let bad: Buffer
          let key = 'key-a'
          if (how === 'flip') {
            bad = Buffer.from(payload)
            const i = where % bad.length
            bad[i] = (bad[i] as number) ^ (1 << (where % 8))
          } else if (how === 'truncate') bad = payload.subarray(0, where % payload.length)
          else if (how === 'extend') bad = Buffer.concat([payload, Buffer.from([where & 255])])
          else if (how === 'swap-key') {
            bad = payload
            key = 'key-b'
          } else bad = Buffer.concat([Buffer.from([0x53, 0x01, 0x00]), plain]) // no encryption layer
          tried++
          try {
            const out = await decodeEnvelope(
              bad,
              key,
              new Map([
                ['aes-256-gcm', enc],
                ['gzip', filters[0]!],
              ]),
              filters,
              1 << 20,
            )
            if (out.plaintext) accepted++
          } catch (e) {
            expect(isSessionError(e)).toBe(true)
          }
        },
      ),
      { numRuns: 10_000 },
    )
    figure({
      section: SECTION,
      name: `tampered payloads accepted (of ${tried.toLocaleString('en-US')})`,
      value: accepted,
      target: '0',
    })
    expect(tried).toBeGreaterThanOrEqual(10_000)
    expect(accepted).toBe(0)
  })
})
