import { brotliCompressSync, constants } from 'node:zlib'
import type { Filter } from '@sessile/core'
import { checkOptionsObject, intOption } from './_internal/check.js'
import { compressor, DEFAULT_THRESHOLD } from './_internal/compress.js'

/** Options of {@link brotli}. */
export interface BrotliOptions {
  /**
   * Brotli quality, 0 (fastest) to 11 (smallest). zlib's own default, 11, is far too slow for a
   * payload written on every changed request; 5 compresses JSON better than gzip at a similar speed.
   * @default 5
   */
  quality?: number
  /**
   * Payloads shorter than this many bytes are stored uncompressed without trying.
   * @default 1024
   */
  threshold?: number
}

/**
 * A brotli compressor (`node:zlib`), tuned for text. Like {@link gzip}, it compresses only when
 * the result is smaller, records whether it did, and its payloads are decompressed with a cap
 * of `maxSize`; core reads them even after the filter leaves the list.
 *
 * @example
 * createSessions({ store, filters: [brotli({ quality: 5 })] })
 */
export function brotli(options?: BrotliOptions): Filter {
  const o = checkOptionsObject('brotli', options)
  const quality = intOption(
    'brotli',
    'quality',
    o.quality,
    constants.BROTLI_MIN_QUALITY,
    constants.BROTLI_MAX_QUALITY,
    5,
  )
  const threshold = intOption('brotli', 'threshold', o.threshold, 0, 2 ** 31 - 1, DEFAULT_THRESHOLD)
  return compressor('brotli', threshold, (input) =>
    brotliCompressSync(input, {
      params: {
        [constants.BROTLI_PARAM_QUALITY]: quality,
        [constants.BROTLI_PARAM_MODE]: constants.BROTLI_MODE_TEXT,
        [constants.BROTLI_PARAM_SIZE_HINT]: input.byteLength,
      },
    }),
  )
}
