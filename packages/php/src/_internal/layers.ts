import { deflateSync, inflateSync } from 'node:zlib'
import { SessionError } from '@sessile/core'

const UNRESERVED = new Uint8Array(256)
for (const c of 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.~')
  UNRESERVED[c.charCodeAt(0)] = 1
const HEX = '0123456789ABCDEF'

/** PHP's rawurlencode (RFC 3986): every byte but `A-Za-z0-9-_.~` as `%XX`. */
export function rawurlencode(bytes: Uint8Array): Buffer {
  let n = 0
  for (const b of bytes) n += UNRESERVED[b] ? 1 : 3
  const out = Buffer.allocUnsafe(n)
  let at = 0
  for (const b of bytes) {
    if (UNRESERVED[b]) out[at++] = b
    else {
      out[at++] = 0x25
      out[at++] = HEX.charCodeAt(b >> 4)
      out[at++] = HEX.charCodeAt(b & 15)
    }
  }
  return out
}

const hexVal = (c: number | undefined): number =>
  c === undefined
    ? -1
    : c >= 0x30 && c <= 0x39
      ? c - 0x30
      : c >= 0x41 && c <= 0x46
        ? c - 55
        : c >= 0x61 && c <= 0x66
          ? c - 87
          : -1

/** PHP's rawurldecode: `%XX` to its byte; a `%` without two hex digits stays as it is; `+` stays. */
export function rawurldecode(bytes: Uint8Array): Buffer {
  const out = Buffer.allocUnsafe(bytes.length)
  let at = 0
  for (let i = 0; i < bytes.length; i++) {
    const b = bytes[i] as number
    if (b === 0x25) {
      const hi = hexVal(bytes[i + 1])
      const lo = hexVal(bytes[i + 2])
      if (hi >= 0 && lo >= 0) {
        out[at++] = (hi << 4) | lo
        i += 2
        continue
      }
    }
    out[at++] = b
  }
  return out.subarray(0, at)
}

/**
 * Whether bytes start with a zlib header (what ADOdb's gzip filter, PHP's gzcompress, writes).
 * rawurlencoded text never does: the only ASCII second bytes that make a valid header with 'x'
 * are ' ', '?', '^' and '}', which rawurlencode always escapes.
 */
export function isZlib(b: Uint8Array): boolean {
  const cmf = b[0]
  const flg = b[1]
  return (
    cmf !== undefined &&
    flg !== undefined &&
    (cmf & 0x0f) === 8 &&
    cmf >> 4 <= 7 &&
    (cmf * 256 + flg) % 31 === 0
  )
}

/** gzuncompress, capped at `max` bytes of output so a small payload cannot inflate without bound. */
export function gzuncompress(b: Uint8Array, max: number): Buffer {
  try {
    return inflateSync(b, { maxOutputLength: max })
  } catch (cause) {
    throw new SessionError('E_DECODE', 'php', 'gzip layer (ADOdb gzip filter) could not be inflated', {
      cause,
    })
  }
}

/** gzcompress at `level` (PHP's default -1 is zlib's 6). */
export const gzcompress = (b: Uint8Array, level: number): Buffer => deflateSync(b, { level })
