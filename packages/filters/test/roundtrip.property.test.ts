import { randomBytes } from 'node:crypto'
import { deserialize, type Filter, parseEnvelope, type SessionData, serialize } from '@sessile/core'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { aesGcm, brotli, gzip } from '../src/index.js'
import { decode, encode, harness, jsonLike, MiB } from './_helpers.js'

/** A filter config that can be built twice, so decode runs on an instance that did not encode. */
type Spec =
  | { kind: 'gzip'; level: number; threshold: number }
  | { kind: 'brotli'; quality: number; threshold: number }
  | { kind: 'aes'; keys: Record<string, Buffer>; current: string }

const threshold = fc.oneof(fc.constant(undefined as unknown as number), fc.nat({ max: 600 }))
const keyring = fc
  .uniqueArray(fc.stringMatching(/^[A-Za-z0-9._-]{1,8}$/), { minLength: 1, maxLength: 3 })
  .chain((ids) =>
    fc.record({
      keys: fc.constant(Object.fromEntries(ids.map((id) => [id, randomBytes(32)]))),
      current: fc.constantFrom(...ids),
    }),
  )
const specOf: Record<'gzip' | 'brotli' | 'aes', fc.Arbitrary<Spec>> = {
  gzip: fc.record({ kind: fc.constant('gzip' as const), level: fc.integer({ min: 1, max: 9 }), threshold }),
  // Quality 10 and 11 take seconds on a 1 MiB input; the range below already covers every code path.
  brotli: fc.record({
    kind: fc.constant('brotli' as const),
    quality: fc.integer({ min: 0, max: 9 }),
    threshold,
  }),
  aes: keyring.map(({ keys, current }) => ({ kind: 'aes' as const, keys, current })),
}
const stack: fc.Arbitrary<Spec[]> = fc
  .shuffledSubarray(['gzip', 'brotli', 'aes'] as const)
  .chain((kinds) => (kinds.length === 0 ? fc.constant<Spec[]>([]) : fc.tuple(...kinds.map((k) => specOf[k]))))

function build(specs: readonly Spec[]): Filter[] {
  return specs.map((s) =>
    s.kind === 'gzip'
      ? gzip({ level: s.level, threshold: s.threshold })
      : s.kind === 'brotli'
        ? brotli({ quality: s.quality, threshold: s.threshold })
        : aesGcm({ keys: s.keys, current: s.current }),
  )
}

const bigRandom = randomBytes(MiB)
const bigJson = jsonLike(MiB)
const payload = fc.oneof(
  { weight: 4, arbitrary: fc.uint8Array({ maxLength: 4096 }) },
  {
    weight: 4,
    arbitrary: fc.string({ unit: 'grapheme', maxLength: 600 }).map((s) => Buffer.from(s, 'utf8')),
  },
  {
    weight: 2,
    arbitrary: fc
      .tuple(fc.string({ maxLength: 20 }), fc.nat({ max: 3000 }))
      .map(([s, n]) => Buffer.from(s.repeat(n))),
  },
  {
    weight: 2,
    arbitrary: fc.constantFrom(new Uint8Array(0), Uint8Array.of(0), Uint8Array.of(0x7b), Uint8Array.of(0xff)),
  },
  { weight: 1, arbitrary: fc.constantFrom(bigRandom, bigJson) },
)

describe('decode(encode(x)) is x', () => {
  it('at the envelope level, for random payloads and random filter stacks', async () => {
    let sawMiB = 0
    await fc.assert(
      fc.asyncProperty(stack, payload, fc.string({ maxLength: 40 }), async (specs, plain, key) => {
        if (plain.byteLength === MiB) sawMiB++
        const written = await encode(build(specs), plain, key)
        const layers = parseEnvelope(written).layers.map((l) => l.id)
        expect(layers).toEqual(specs.map((s) => (s.kind === 'aes' ? 'aes-256-gcm' : s.kind)))
        const read = await decode(build(specs), written, key)
        expect(Buffer.from(read).equals(Buffer.from(plain))).toBe(true)
      }),
      {
        numRuns: 250,
        examples: [
          [[{ kind: 'gzip', level: 6, threshold: 0 }], bigJson, 'k'],
          [
            [
              { kind: 'aes', keys: { a: randomBytes(32) }, current: 'a' },
              { kind: 'brotli', quality: 5, threshold: 0 },
            ],
            bigRandom,
            'k',
          ],
          [
            [
              { kind: 'brotli', quality: 5, threshold: 0 },
              { kind: 'gzip', level: 1, threshold: 0 },
              { kind: 'aes', keys: { a: randomBytes(32) }, current: 'a' },
            ],
            new Uint8Array(0),
            '',
          ],
        ],
      },
    )
    expect(sawMiB).toBeGreaterThan(0)
  }, 120_000)

  it('through createSessions and MemoryStore, for random JSON session data', async () => {
    const data = fc
      .dictionary(fc.string({ minLength: 1, maxLength: 12 }), fc.jsonValue({ maxDepth: 3 }), {
        minKeys: 1,
        maxKeys: 8,
      })
      .filter((d) => serialize(d).byteLength > 2)
    const big = { blob: 'x'.repeat(MiB - 100), n: 1 }
    await fc.assert(
      fc.asyncProperty(stack, data, async (specs, value) => {
        const h = harness(build(specs))
        const s = h.sessions.create(value as SessionData)
        const r = await h.sessions.commit(s)
        expect(r.write).toBe('insert')
        const reader = harness(build(specs), h.store)
        const loaded = await reader.sessions.load(r.id)
        expect(loaded.isNew).toBe(false)
        expect(loaded.data).toEqual(deserialize(serialize(value)))
        expect(reader.decodeErrors).toEqual([])
      }),
      {
        numRuns: 150,
        examples: [
          [
            [
              { kind: 'gzip', level: 6, threshold: 256 },
              { kind: 'aes', keys: { k: randomBytes(32) }, current: 'k' },
            ],
            big,
          ],
          [
            [{ kind: 'brotli', quality: 5, threshold: 256 }],
            { 'ключ 🔑': 'значение — ✓ 𝄞', ' ': [null, -0, 1e308, true] },
          ],
        ],
      },
    )
  }, 120_000)
})
