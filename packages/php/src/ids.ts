import { randomBytes } from 'node:crypto'
import { type IdFormat, SessionError } from '@sessile/core'

const ALPHABET = '0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ,-'
const PATTERN: Record<number, string> = { 4: '0-9a-f', 5: '0-9a-v', 6: '0-9a-zA-Z,\\-' }

export interface PhpIdsOptions {
  /**
   * PHP's `session.sid_length` (22 to 256 characters).
   * @default 32
   */
  sidLength?: number
  /**
   * PHP's `session.sid_bits_per_character`: 4 (`0-9a-f`), 5 (`0-9a-v`) or 6 (`0-9a-zA-Z,-`).
   * @default 5
   */
  bitsPerCharacter?: 4 | 5 | 6
  /**
   * Accept a configuration under 128 bits (PHP's own default, 32 × 4 bits, is exactly 128). The
   * session manager still refuses anything under 122 bits.
   * @default false
   */
  allowWeak?: boolean
}

/**
 * PHP's session ids as an id format: the shape `session.sid_length` and
 * `session.sid_bits_per_character` configure, generated the way PHP does (CSPRNG bytes, `bits`
 * of each, mapped onto PHP's alphabet). A manager shared with PHP must issue these: PHP refuses the
 * `_` of Sessile's base64url ids.
 *
 * @example
 * createSessions({ store, ids: phpIds({ sidLength: 32, bitsPerCharacter: 5 }), acceptIds: [] })
 */
export function phpIds(options: PhpIdsOptions = {}): IdFormat & { generate(): string } {
  const fail = (m: string): never => {
    throw new SessionError('E_OPTION', 'php-ids', m)
  }
  const length = options.sidLength ?? 32
  const per = options.bitsPerCharacter ?? 5
  if (!Number.isInteger(length) || length < 22 || length > 256)
    fail(`sidLength must be a whole number from 22 to 256 (PHP's range), got ${String(length)}`)
  if (per !== 4 && per !== 5 && per !== 6) fail(`bitsPerCharacter must be 4, 5 or 6, got ${String(per)}`)
  const bits = length * per
  if (bits < 128 && options.allowWeak !== true)
    fail(
      `${length} characters of ${per} bits carry ${bits} random bits; at least 128 are required (allowWeak to override)`,
    )
  const mask = (1 << per) - 1
  const pattern = new RegExp(`^[${PATTERN[per]}]{${length}}$`)
  return {
    name: `php(${length}x${per})`,
    bits,
    test: (id) => id.length === length && pattern.test(id),
    generate() {
      // 2^per divides 256, so masking each CSPRNG byte keeps every character uniform.
      const bytes = randomBytes(length)
      let id = ''
      for (const b of bytes) id += ALPHABET[b & mask]
      return id
    },
  }
}
