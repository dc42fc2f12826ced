import { createHmac, randomBytes } from 'node:crypto'
import { SessionError } from './errors.js'

/** Session ids are base64url text; this is every character an id may contain. */
const ID_PATTERN = /^[A-Za-z0-9_-]+$/

/** Smallest id Sessile generates or accepts: 16 bytes = 128 bits of CSPRNG output. */
export const MIN_ID_BYTES = 16
/** Default id size: 32 bytes = 256 bits, 43 base64url characters. */
export const DEFAULT_ID_BYTES = 32

/**
 * A new session id: `bytes` bytes from `crypto.randomBytes`, base64url without padding.
 *
 * @example
 * generateId() // 'pQ3…' (43 characters, 256 bits)
 */
export function generateId(bytes: number = DEFAULT_ID_BYTES): string {
  if (!Number.isInteger(bytes) || bytes < MIN_ID_BYTES || bytes > 96) {
    throw new SessionError('E_OPTION', 'ids', `idBytes must be an integer from ${MIN_ID_BYTES} to 96`)
  }
  return randomBytes(bytes).toString('base64url')
}

/** Length in characters of a base64url id made of `bytes` bytes. */
export const idLength = (bytes: number): number => Math.ceil((bytes * 8) / 6)

/**
 * Whether `id` could have been made by {@link generateId} with `bytes` bytes. Anything else
 * (wrong charset, wrong length, case variants that change the length) never reaches the store.
 */
export function isWellFormedId(id: unknown, bytes: number = DEFAULT_ID_BYTES): id is string {
  return typeof id === 'string' && id.length === idLength(bytes) && ID_PATTERN.test(id)
}

/**
 * The key a session is stored under. With a secret it is HMAC-SHA-256(secret, id) in base64url,
 * so a copy of the table holds no id that a browser could present.
 */
export function storageKey(id: string, secret: Buffer | undefined): string {
  if (!secret) return id
  return createHmac('sha256', secret).update(id, 'utf8').digest('base64url')
}
