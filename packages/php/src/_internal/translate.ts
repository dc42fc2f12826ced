import { deserialize, ENVELOPE_MAGIC, ENVELOPE_VERSION, SessionError } from '@sessile/core'
import type { PhpCodec } from '../codec.js'

const PLAIN = Buffer.of(ENVELOPE_MAGIC, ENVELOPE_VERSION, 0)

/**
 * The manager stores an envelope; PHP needs its own bytes. The store translates: the manager's
 * plain envelope (header + JSON) to PHP's encoding on write, and back on read.
 */
export function toPhp(source: string, codec: PhpCodec, data: Uint8Array): Buffer {
  if (data.byteLength < 3 || data[0] !== PLAIN[0] || data[1] !== PLAIN[1] || data[2] !== 0)
    throw new SessionError(
      'E_INVALID',
      source,
      'a PHP-shared store takes the manager’s plain payload: use createSessions without filters (the store’s codec has gzip)',
    )
  return codec.encode(deserialize(data.subarray(3)))
}

/** PHP's bytes to the manager's plain envelope; throws E_DECODE for a malformed payload. */
export function fromPhp(codec: PhpCodec, stored: Uint8Array): Buffer {
  const data = codec.decode(stored)
  return Buffer.concat([PLAIN, Buffer.from(JSON.stringify(data), 'utf8')])
}
