import { gzipSync } from 'node:zlib'
import type { Filter } from '@sessile/core'
import { checkOptionsObject, intOption } from './_internal/check.js'
import { compressor, DEFAULT_THRESHOLD } from './_internal/compress.js'

/** Options of {@link gzip}. */
export interface GzipOptions {
  /**
   * zlib compression level, 1 (fastest) to 9 (smallest).
   * @default 6
   */
  level?: number
  /**
   * Payloads shorter than this many bytes are stored uncompressed without trying: below 1 KiB
   * the bytes saved are not worth zlib's fixed set-up cost per call.
   * @default 1024
   */
  threshold?: number
}

/**
 * A gzip compressor (`node:zlib`). It compresses only when the result is smaller, and records in
 * the envelope whether it did. Decompression is capped at the manager's `maxSize`, so a crafted
 * payload cannot inflate into gigabytes. Payloads it wrote stay readable after it leaves the
 * filter list (core always reads `gzip`).
 *
 * Put it before `aesGcm()` only when an attacker cannot place chosen values beside secrets in the
 * same session; see the README on compression before encryption.
 *
 * @example
 * createSessions({ store, filters: [gzip({ level: 6, threshold: 512 })] })
 */
export function gzip(options?: GzipOptions): Filter {
  const o = checkOptionsObject('gzip', options)
  const level = intOption('gzip', 'level', o.level, 1, 9, 6)
  const threshold = intOption('gzip', 'threshold', o.threshold, 0, 2 ** 31 - 1, DEFAULT_THRESHOLD)
  return compressor('gzip', threshold, (input) => gzipSync(input, { level }))
}
