// The statement deadlines of pgStore's queryTimeout: one timer for all of an executor's
// statements (a list in the order they start), instead of a timer set and cleared per statement.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { Deadlines } from '../src/_internal/postgres-js/deadlines.js'

describe('Deadlines', () => {
  beforeEach(() => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'performance'] })
  })
  afterEach(() => {
    vi.useRealTimers()
    vi.restoreAllMocks()
  })

  it('fires a deadline still listed after ms, in the order they were added, and never one removed', () => {
    const d = new Deadlines(1000)
    const fired: string[] = []
    const a = d.add(() => fired.push('a'))
    vi.advanceTimersByTime(300)
    const b = d.add(() => fired.push('b'))
    const c = d.add(() => fired.push('c'))
    d.remove(b)
    vi.advanceTimersByTime(699)
    expect(fired).toEqual([])
    vi.advanceTimersByTime(1)
    expect(fired).toEqual(['a'])
    // b was removed; c falls due 300 ms after a, and the timer is set again for it.
    vi.advanceTimersByTime(299)
    expect(fired).toEqual(['a'])
    vi.advanceTimersByTime(1)
    expect(fired).toEqual(['a', 'c'])
    expect(d.size).toBe(0)
    // Removing twice, or after firing, changes nothing.
    d.remove(a)
    d.remove(b)
    d.remove(c)
    expect(d.size).toBe(0)
  })

  it('removes from the head, the middle and the tail of the list', () => {
    const d = new Deadlines(100)
    const fired: number[] = []
    const all = Array.from({ length: 6 }, (_, i) => d.add(() => fired.push(i)))
    d.remove(all[0]!)
    d.remove(all[3]!)
    d.remove(all[5]!)
    expect(d.size).toBe(3)
    vi.advanceTimersByTime(100)
    expect(fired).toEqual([1, 2, 4])
  })

  it('sets one timer per ms at one statement at a time, not one per statement', () => {
    const spy = vi.spyOn(globalThis, 'setTimeout')
    const d = new Deadlines(15_000)
    let fired = 0
    // 10,000 statements of 1 ms each, one after the other: 10 s, within one deadline period.
    for (let i = 0; i < 10_000; i++) {
      const one = d.add(() => fired++)
      vi.advanceTimersByTime(1)
      d.remove(one)
    }
    expect(spy).toHaveBeenCalledTimes(1)
    expect(fired).toBe(0)
    // When the timer comes due with the list empty, nothing fires and nothing is set again.
    vi.advanceTimersByTime(15_000)
    expect(spy).toHaveBeenCalledTimes(1)
    expect(fired).toBe(0)
    // A statement that then hangs fires once, ms after it started.
    d.add(() => fired++)
    vi.advanceTimersByTime(14_999)
    expect(fired).toBe(0)
    vi.advanceTimersByTime(1)
    expect(fired).toBe(1)
  })

  it('a deadline added while the timer waits for an older one still fires on time', () => {
    const d = new Deadlines(500)
    const fired: Array<[string, number]> = []
    const t0 = performance.now()
    const first = d.add(() => fired.push(['first', performance.now() - t0]))
    vi.advanceTimersByTime(400)
    d.remove(first)
    d.add(() => fired.push(['second', performance.now() - t0]))
    vi.advanceTimersByTime(899 - 400)
    expect(fired).toEqual([])
    vi.advanceTimersByTime(1)
    expect(fired).toEqual([['second', 900]])
  })
})
