import { createHmac } from 'node:crypto'
import { randomBytesPooled } from './_internal/random.js'
import { SessionError } from './errors.js'

/** Session ids are base64url text; this is every character an id may contain. */
const ID_PATTERN = /^[A-Za-z0-9_-]+$/

/** Smallest id Sessile generates or accepts: 16 bytes = 128 bits of CSPRNG output. */
export const MIN_ID_BYTES = 16
/** Default id size: 32 bytes = 256 bits, 43 base64url characters. */
export const DEFAULT_ID_BYTES = 32

/**
 * A new session id: `bytes` bytes from the operating system's CSPRNG, base64url without padding.
 *
 * @example
 * generateId() // 'pQ3…' (43 characters, 256 bits)
 */
export function generateId(bytes: number = DEFAULT_ID_BYTES): string {
  if (!Number.isInteger(bytes) || bytes < MIN_ID_BYTES || bytes > 96) {
    throw new SessionError('E_OPTION', 'ids', `idBytes must be an integer from ${MIN_ID_BYTES} to 96`)
  }
  return randomBytesPooled(bytes).toString('base64url')
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
 * A shape of session id: how to recognise one and, for the manager's own format, how to make one.
 * Only ids from a CSPRNG with at least {@link MIN_ID_BITS} random bits qualify; a shape is a cheap
 * filter that keeps junk away from the store, never a proof that an id exists.
 */
export interface IdFormat {
  /** For messages, e.g. `'sessile'`, `'express-session'`, `'uuid-v4'`, `'php'`. */
  readonly name: string
  /** Random bits an id of this shape carries (CSPRNG output). */
  readonly bits: number
  /** Whether `id` has this shape (no I/O). */
  test(id: string): boolean
  /** A fresh id of this shape; required of the format the manager issues. */
  generate?(): string
}

/** The fewest random bits an accepted id may carry: a UUIDv4's 122. */
export const MIN_ID_BITS = 122

/**
 * Sessile's own ids: `bytes` bytes (default 32 = 256 bits) from the CSPRNG, base64url.
 *
 * @example
 * createSessions({ store, ids: sessileIds(24) })
 */
export function sessileIds(bytes: number = DEFAULT_ID_BYTES): IdFormat & { generate(): string } {
  generateId(bytes) // validates bytes
  const length = idLength(bytes)
  return {
    name: 'sessile',
    bits: bytes * 8,
    test: (id) => id.length === length && ID_PATTERN.test(id),
    generate: () => randomBytesPooled(bytes).toString('base64url'),
  }
}

/** express-session's default ids: uid-safe's 24 CSPRNG bytes, base64url (32 characters). */
export const expressSessionIds: IdFormat = {
  name: 'express-session',
  bits: 192,
  test: (id) => id.length === 32 && ID_PATTERN.test(id),
}

const UUID_V4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/

/** koa-session's default ids: `crypto.randomUUID()` (UUIDv4, 122 random bits, lower case). */
export const uuidV4Ids: IdFormat = {
  name: 'uuid-v4',
  bits: 122,
  test: (id) => id.length === 36 && UUID_V4.test(id),
}

/**
 * The key a session is stored under. With a secret it is HMAC-SHA-256(secret, id) in base64url,
 * so a copy of the table holds no id that a browser could present.
 */
export function storageKey(id: string, secret: Buffer | undefined): string {
  if (!secret) return id
  return createHmac('sha256', secret).update(id, 'utf8').digest('base64url')
}
