/** How a row's data leaves the reply: shared when that keeps little else alive, copied otherwise. */
import { describe, expect, it } from 'vitest'
import { HEAD, rowOf } from '../src/_internal/row.js'

/** A reply of one row with `size` data bytes, at the start of `memory` bytes (a socket read or a parser pool). */
function reply(size: number, memory: number): Buffer {
  const header = `1${'1'.repeat(13)}${'1'.repeat(13)}${'9'.repeat(13)}${'1'.padStart(16, '0')}000`
  const b = Buffer.from(new ArrayBuffer(memory), 0, HEAD + size)
  b.write(header, 0, 'latin1')
  b.fill(0x61, HEAD)
  return b
}

const shares = (b: Buffer): boolean => rowOf('redis', 'k', b, 0).data.buffer === b.buffer

describe('redis store: row data', () => {
  it('a small payload is copied out of a socket read, so holding it does not keep the read alive', () => {
    const b = reply(400, 64 * 1024)
    const { data } = rowOf('redis', 'k', b, 0)
    expect(data.buffer).not.toBe(b.buffer)
    expect(Buffer.from(data).equals(b.subarray(HEAD))).toBe(true)
  })

  it('a payload of 4 KiB or more shares a socket read of up to 64 KiB instead of a buffer of its own', () => {
    expect(shares(reply(4096, 64 * 1024))).toBe(true)
    expect(shares(reply(16_300, 64 * 1024))).toBe(true)
    expect(shares(reply(4095, 64 * 1024))).toBe(false)
  })

  it("a payload in the parser's pool of several MB is copied unless it fills a quarter of it", () => {
    expect(shares(reply(16_300, 3 * 1024 * 1024))).toBe(false)
    expect(shares(reply(800 * 1024, 3 * 1024 * 1024))).toBe(true)
  })
})
