import { randomFillSync } from 'node:crypto'

// Each crypto.randomBytes call costs about 7 µs here (a call into OpenSSL's generator per call),
// more than the AES-GCM encryption of a session it makes the IV for. Bytes drawn from the same
// generator in 4 KiB blocks cost ~0.1 µs each call; Node's own randomUUID() buffers the same way.
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
