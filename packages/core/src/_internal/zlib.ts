import { brotliDecompressSync, gunzipSync } from 'node:zlib'
import { SessionError } from '../errors.js'
import type { Filter } from '../filter.js'

/** Param byte a compressor writes: the body is stored as it came. */
export const STORED = 0
/** Param byte a compressor writes: the body is compressed. */
export const COMPRESSED = 1

/**
 * Decompression with a hard output cap, shared by the built-in decoders and `@sessile/filters`.
 * `maxOutputLength` makes zlib stop instead of inflating a crafted payload into gigabytes; a
 * truncated stream is an error, never a partial result.
 */
export function decompress(kind: 'gzip' | 'brotli', input: Uint8Array, maxOutputLength: number): Uint8Array {
  try {
    return kind === 'gzip'
      ? gunzipSync(input, { maxOutputLength })
      : brotliDecompressSync(input, { maxOutputLength })
  } catch (cause) {
    throw new SessionError('E_DECODE', kind, `cannot decompress payload: ${(cause as Error).message}`, {
      cause,
    })
  }
}

/** Decode one compressor layer given its param byte. */
export function decodeCompressed(
  kind: 'gzip' | 'brotli',
  input: Uint8Array,
  param: Uint8Array,
  max: number,
): Uint8Array {
  if (param.byteLength !== 1) throw new SessionError('E_DECODE', kind, 'compression param must be one byte')
  if (param[0] === STORED) return input
  if (param[0] === COMPRESSED) return decompress(kind, input, max)
  throw new SessionError('E_DECODE', kind, `unknown compression flag ${param[0]}`)
}

function decoderOnly(kind: 'gzip' | 'brotli'): Filter {
  return {
    id: kind,
    encode() {
      throw new SessionError(
        'E_OPTION',
        kind,
        `the built-in "${kind}" decoder cannot encode; use @sessile/filters`,
      )
    },
    decode: (input, param, ctx) => decodeCompressed(kind, input, param, ctx.maxSize),
  }
}

/**
 * Compression needs no secret, so the manager can always decode it: a payload written with
 * `gzip()` stays readable after `gzip()` leaves the filter list.
 */
export const builtinDecoders: readonly Filter[] = [decoderOnly('gzip'), decoderOnly('brotli')]
