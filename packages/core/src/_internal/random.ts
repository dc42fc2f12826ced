import { randomFillSync } from 'node:crypto'

// Each crypto.randomBytes call is a call into OpenSSL's generator, dearer than the AES-GCM
// encryption it makes the IV for; drawing from the same generator in blocks amortises it, as
// Node's own randomUUID() does (docs/benchmarks.md, "Hot sessions and the filters").
const BLOCK = 4096
let block = Buffer.alloc(0)
let offset = 0

/**
 * `n` bytes from the operating system's CSPRNG (as `crypto.randomBytes`), drawn from a buffered
 * block. Every byte is handed out once; a used-up block is replaced by a new buffer, never
 * refilled in place, so bytes already handed out never change.
 */
export function randomBytesPooled(n: number): Buffer {
  if (n > BLOCK / 4) return randomFillSync(Buffer.allocUnsafe(n))
  if (offset + n > block.length) {
    block = randomFillSync(Buffer.allocUnsafe(BLOCK))
    offset = 0
  }
  const out = block.subarray(offset, offset + n)
  offset += n
  return out
}
