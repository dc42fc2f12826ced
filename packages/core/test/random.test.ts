import { randomBytesPooled } from '@sessile/core'
import { describe, expect, it } from 'vitest'

describe('randomBytesPooled', () => {
  it('hands out bytes that never change afterwards, also across a new block', () => {
    const first = randomBytesPooled(12)
    const copy = Buffer.from(first)
    const later: Buffer[] = []
    // Well past one 4 KiB block.
    for (let i = 0; i < 2000; i++) later.push(randomBytesPooled(12))
    expect(first.equals(copy)).toBe(true)
    // No two draws share bytes: 2001 12-byte draws from a CSPRNG never repeat.
    const seen = new Set([copy.toString('hex'), ...later.map((b) => b.toString('hex'))])
    expect(seen.size).toBe(2001)
  })

  it('returns exactly n bytes, large requests included', () => {
    for (const n of [0, 1, 12, 32, 1024, 1025, 100_000]) expect(randomBytesPooled(n).length).toBe(n)
  })

  it('looks random: each bit set about half the time over 20,000 draws', () => {
    const ones = new Array(96).fill(0)
    for (let i = 0; i < 20_000; i++) {
      const b = randomBytesPooled(12)
      for (let bit = 0; bit < 96; bit++) if ((b[bit >> 3] as number) & (1 << (bit & 7))) ones[bit]++
    }
    for (const n of ones) expect(Math.abs(n / 20_000 - 0.5)).toBeLessThan(0.02)
  })
})
