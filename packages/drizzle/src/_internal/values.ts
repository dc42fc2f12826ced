/** Drivers and user-configured type parsers may hand back Date, string or number; accept all three. */
export function toDate(value: unknown): Date {
  if (value instanceof Date) return value
  if (typeof value === 'number') return new Date(value)
  if (typeof value === 'bigint') return new Date(Number(value))
  if (typeof value === 'string' && /^\d+$/.test(value)) return new Date(Number(value))
  return new Date(String(value))
}

export function toInt(value: unknown): number {
  return typeof value === 'number' ? value : Number(value)
}

/** Binary columns come back as Buffer (node drivers) or Uint8Array (PGlite); text ones as string. */
export function toText(value: unknown): string {
  if (typeof value === 'string') return value
  if (value instanceof Uint8Array)
    return Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString('utf8')
  return String(value)
}

export function toNullableText(value: unknown): string | null {
  return value === null || value === undefined ? null : toText(value)
}

export function toBytes(value: unknown): Uint8Array {
  if (value instanceof Uint8Array) return value
  if (typeof value === 'string') return Buffer.from(value, 'binary')
  return new Uint8Array(0)
}

export function asBuffer(value: Uint8Array): Buffer {
  return Buffer.isBuffer(value) ? value : Buffer.from(value.buffer, value.byteOffset, value.byteLength)
}
