import { COMPRESSED, decodeCompressed, type Filter, STORED } from '@sessile/core'

/**
 * Below 1 KiB a session gains little from compression, for zlib's fixed set-up cost per call;
 * see docs/benchmarks.md, "Hot sessions and the filters".
 */
export const DEFAULT_THRESHOLD = 1024

const PARAM_STORED = Uint8Array.of(STORED)
const PARAM_COMPRESSED = Uint8Array.of(COMPRESSED)

/**
 * A compressor in the format core's built-in decoders read: param byte 1 when the body is
 * compressed, 0 when it is stored as it came. Storing is chosen whenever compressing would not
 * shrink the payload, so incompressible data (ciphertext, images) never grows.
 */
export function compressor(
  kind: 'gzip' | 'brotli',
  threshold: number,
  compress: (input: Uint8Array) => Uint8Array,
): Filter {
  return {
    id: kind,
    encode(input) {
      if (input.byteLength >= threshold && input.byteLength > 0) {
        const packed = compress(input)
        if (packed.byteLength < input.byteLength) return { data: packed, param: PARAM_COMPRESSED }
      }
      return { data: input, param: PARAM_STORED }
    },
    // Core's decoder is the one that reads these payloads once this filter is gone, so using it
    // here too keeps both readers identical, including the maxSize cap on inflation.
    decode: (input, param, context) => decodeCompressed(kind, input, param, context.maxSize),
  }
}
