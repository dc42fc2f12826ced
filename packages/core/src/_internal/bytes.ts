/** Byte-for-byte equality; the change detector relies on it instead of a checksum. */
export function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.byteLength !== b.byteLength) return false
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(
    Buffer.from(b.buffer, b.byteOffset, b.byteLength),
  )
}

export function toBuffer(a: Uint8Array): Buffer {
  return Buffer.isBuffer(a) ? a : Buffer.from(a.buffer, a.byteOffset, a.byteLength)
}

/** An independent copy, so callers and stores never share mutable memory. */
export function copyBytes(a: Uint8Array): Uint8Array {
  return new Uint8Array(a)
}
