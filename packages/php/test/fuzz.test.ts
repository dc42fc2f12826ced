import { performance } from 'node:perf_hooks'
import { isSessionError } from '@sessile/core'
import { describe, expect, it } from 'vitest'
import { phpCodec } from '../src/index.js'

// Seeds in PHP's own output shape; the fuzzer truncates, lies about lengths and counts, nests and
// flips bytes. A deterministic PRNG keeps a failure reproducible.
const SEEDS = [
  'user|s:3:"ann";n|i:3;f|d:0.5;arr|a:2:{s:1:"a";a:2:{i:0;i:1;i:1;s:2:"\u00e9";}s:1:"x";N;}',
  'obj|O:3:"Foo":2:{s:1:"a";i:1;s:6:"\0Foo\0b";b:1;}o2|r:2;e|E:7:"Suit:Hx";c|C:3:"Bar":4:{abcd}',
  'a:3:{s:4:"user";s:3:"ann";i:7;d:1.0E-5;s:1:"z";a:1:{i:0;R:2;}}',
]

function rng(seed: number): () => number {
  let s = seed >>> 0
  return () => {
    s = (s + 0x6d2b79f5) >>> 0
    let t = s
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

function mutate(r: () => number, i: number): Buffer {
  const seed = Buffer.from(SEEDS[i % SEEDS.length] as string, 'utf8')
  const pick = (n: number) => Math.floor(r() * n)
  switch (i % 8) {
    case 0:
      return seed.subarray(0, pick(seed.length))
    case 1: // wrong lengths and counts
      return Buffer.from(
        seed.toString('latin1').replace(/(\d+)/g, (d) => (r() < 0.3 ? String(Number(d) + pick(5) - 2) : d)),
        'latin1',
      )
    case 2: // huge counts
      return Buffer.from(
        seed
          .toString('latin1')
          .replace(/([as]):(\d+):/, `$1:${[2 ** 31, 2 ** 53, 1e30, 999999999][pick(4)]}:`),
        'latin1',
      )
    case 3: {
      // deep nesting
      const depth = 1 + pick(5000)
      return Buffer.from(`x|${'a:1:{i:0;'.repeat(depth)}N;${'}'.repeat(pick(2) ? depth : pick(depth))}`)
    }
    case 4: {
      const b = Buffer.from(seed)
      for (let k = 0; k < 1 + pick(4); k++) b[pick(b.length)] = pick(256)
      return b
    }
    case 5: {
      const b = Buffer.allocUnsafe(pick(300))
      for (let k = 0; k < b.length; k++) b[k] = pick(256)
      return b
    }
    case 6: // references out of range, odd floats and ints
      return Buffer.from(
        `a|r:${pick(1e6)};b|R:0;c|d:${['1e999', 'NAN', '-INF', '1.5e', '.', '-0', '0x1p3'][pick(7)]};d|i:${['99999999999999999999', '-0', '+5', '007', ''][pick(5)]};`,
      )
    default: {
      const a = Buffer.from(seed)
      const b = SEEDS[pick(SEEDS.length)] as string
      return Buffer.concat([a.subarray(0, pick(a.length)), Buffer.from(b).subarray(pick(b.length))])
    }
  }
}

describe('fuzzed PHP payloads', () => {
  it('10,000 malformed payloads: no throw but E_DECODE, no hang, bounded memory', () => {
    const codecs = [
      phpCodec({ serializer: 'php', urlencode: false }),
      phpCodec({ serializer: 'php_serialize', urlencode: false }),
    ]
    const r = rng(25)
    const heapBefore = process.memoryUsage().heapUsed
    let decoded = 0
    let refused = 0
    let slowest = 0
    for (let i = 0; i < 10_000; i++) {
      const payload = mutate(r, i)
      for (const codec of codecs) {
        const t = performance.now()
        try {
          const data = codec.decodeSession(payload)
          // What was read must write again (or be refused with a SessionError), never crash.
          try {
            codec.encodeSession(JSON.parse(JSON.stringify(data)))
          } catch (e) {
            if (!isSessionError(e)) throw e
          }
          decoded++
        } catch (e) {
          if (!isSessionError(e) || e.code !== 'E_DECODE') throw e
          refused++
        }
        slowest = Math.max(slowest, performance.now() - t)
      }
    }
    const heapGrowth = process.memoryUsage().heapUsed - heapBefore
    console.log(
      `fuzz: ${decoded} decoded, ${refused} refused (E_DECODE), slowest ${slowest.toFixed(1)} ms, heap +${(heapGrowth / 1048576).toFixed(1)} MiB`,
    )
    expect(decoded + refused).toBe(20_000)
    expect(refused).toBeGreaterThan(10_000)
    expect(decoded).toBeGreaterThan(100)
    expect(slowest).toBeLessThan(1000)
    expect(heapGrowth).toBeLessThan(256 * 1024 * 1024)
  })

  it('a payload nested beyond maxDepth is E_DECODE, not a stack overflow', () => {
    const codec = phpCodec({ urlencode: false, maxDepth: 512 })
    const deep = Buffer.from(`x|${'a:1:{i:0;'.repeat(100_000)}N;${'}'.repeat(100_000)}`)
    try {
      codec.decodeSession(deep)
      expect.unreachable()
    } catch (e) {
      expect(isSessionError(e) && e.code).toBe('E_DECODE')
    }
  })
})

describe('many references', () => {
  it('50,000 back-references read in linear time and write back byte for byte', () => {
    const codec = phpCodec({ urlencode: false, maxSize: 4 * 1024 * 1024 })
    const refs = Array.from({ length: 50_000 }, (_, i) => `i:${i};r:1;`).join('')
    const payload = Buffer.from(`o|O:8:"stdClass":0:{}list|a:50000:{${refs}}`)
    const t = performance.now()
    const data = JSON.parse(JSON.stringify(codec.decodeSession(payload)))
    expect(data.list).toHaveLength(50_000)
    expect(data.list[49_999]).toMatchObject({ $php: 'ref' })
    expect(codec.encodeSession(data).equals(payload)).toBe(true)
    expect(performance.now() - t).toBeLessThan(10_000)
  })
})
