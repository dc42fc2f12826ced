import { describe, expect, it } from 'vitest'
import { Pending } from '../src/_internal/pending.js'

describe('Pending', () => {
  it('drops entries past their ttl on the next put, oldest first, without anyone looking them up', async () => {
    const dropped: string[] = []
    const p = new Pending<string>(100, 30, (v) => dropped.push(v))
    p.put('a', 'A')
    p.put('b', 'B')
    await new Promise((r) => setTimeout(r, 60))
    p.put('c', 'C')
    expect(dropped).toEqual(['A', 'B'])
    expect(p.size).toBe(1)
    expect(p.get('c')).toBe('C')
  })

  it('a taken entry is not dropped later, and the limit still evicts the oldest', () => {
    const dropped: string[] = []
    const p = new Pending<string>(2, 60_000, (v) => dropped.push(v))
    p.put('a', 'A')
    expect(p.take('a')).toBe('A')
    p.put('b', 'B')
    p.put('c', 'C')
    p.put('d', 'D')
    expect(dropped).toEqual(['B'])
    expect(p.size).toBe(2)
  })
})
