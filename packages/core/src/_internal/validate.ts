import { SessionError } from '../errors.js'
import type { DestroyHint, LeaseRequest, TouchRequest, WriteRequest } from '../store.js'

/** Keys are at most 255 UTF-8 bytes, so every SQL dialect can index them byte-exactly. */
export const MAX_KEY_BYTES = 255
const MAX_REF_LENGTH = 255
const MAX_TTL = 10 * 365 * 86_400_000
// A lone surrogate has no UTF-8 form: drivers send it as U+FFFD, so two different keys would
// name one SQL row (and two refs one user). Such keys and refs are refused like NUL.
const LONE_SURROGATE = /\p{Surrogate}/u

/**
 * Shared argument checks for stores, so every store refuses the same bad input with the same
 * message before it talks to its backend.
 */
export function validateKey(source: string, key: unknown): asserts key is string {
  if (
    typeof key !== 'string' ||
    key.length === 0 ||
    Buffer.byteLength(key, 'utf8') > MAX_KEY_BYTES ||
    key.includes('\u0000') ||
    LONE_SURROGATE.test(key)
  ) {
    throw new SessionError(
      'E_INVALID',
      source,
      `key must be a string of 1 to ${MAX_KEY_BYTES} UTF-8 bytes without NUL or lone surrogates`,
    )
  }
}

export function validateRef(source: string, ref: unknown): asserts ref is string | null {
  if (ref === null) return
  if (
    typeof ref !== 'string' ||
    ref.length === 0 ||
    ref.length > MAX_REF_LENGTH ||
    ref.includes('\u0000') ||
    LONE_SURROGATE.test(ref)
  ) {
    throw new SessionError(
      'E_INVALID',
      source,
      `ref must be null or a string of 1 to ${MAX_REF_LENGTH} characters without NUL or lone surrogates`,
    )
  }
}

/** A destroy hint, when given, is an object whose ref is a valid ref (or null). */
export function validateDestroyHint(source: string, hint: unknown): asserts hint is DestroyHint | undefined {
  if (hint === undefined) return
  if (typeof hint !== 'object' || hint === null)
    throw new SessionError('E_INVALID', source, 'destroy hint must be an object like { ref }')
  validateRef(source, (hint as { ref?: unknown }).ref)
}

function checkTtl(source: string, name: string, value: unknown): void {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > MAX_TTL) {
    throw new SessionError('E_INVALID', source, `${name} must be a whole number of ms from 1 to ${MAX_TTL}`)
  }
}

export function validateWrite(source: string, req: WriteRequest, maxDataBytes: number): void {
  if (typeof req !== 'object' || req === null)
    throw new SessionError('E_INVALID', source, 'write needs a request')
  validateKey(source, req.key)
  validateRef(source, req.ref)
  if (!(req.data instanceof Uint8Array))
    throw new SessionError('E_INVALID', source, 'data must be a Uint8Array')
  if (req.data.byteLength > maxDataBytes) {
    throw new SessionError(
      'E_TOO_LARGE',
      source,
      `payload of ${req.data.byteLength} bytes exceeds the limit of ${maxDataBytes} bytes; nothing was written`,
    )
  }
  if (req.mode !== 'insert' && req.mode !== 'update' && req.mode !== 'upsert') {
    throw new SessionError('E_INVALID', source, `mode must be 'insert', 'update' or 'upsert'`)
  }
  checkTtl(source, 'ttl', req.ttl)
  if (req.maxAge !== undefined) checkTtl(source, 'maxAge', req.maxAge)
  if (req.version !== undefined && (!Number.isInteger(req.version) || req.version < 0)) {
    throw new SessionError('E_INVALID', source, 'version must be a non-negative integer')
  }
  if (req.lease !== undefined) validateToken(source, req.lease)
  if (req.keepExpiry !== undefined && typeof req.keepExpiry !== 'boolean')
    throw new SessionError('E_INVALID', source, 'keepExpiry must be a boolean')
}

const TOKEN = /^[\x21-\x7e]{1,64}$/

export function validateToken(source: string, token: unknown): asserts token is string {
  if (typeof token !== 'string' || !TOKEN.test(token)) {
    throw new SessionError('E_INVALID', source, 'lease token must be 1 to 64 printable ASCII characters')
  }
}

export function validateLease(source: string, req: LeaseRequest): void {
  if (typeof req !== 'object' || req === null)
    throw new SessionError('E_INVALID', source, 'lease needs a request')
  validateKey(source, req.key)
  validateToken(source, req.token)
  checkTtl(source, 'ttl', req.ttl)
}

export function validateTouch(source: string, req: TouchRequest): void {
  if (typeof req !== 'object' || req === null)
    throw new SessionError('E_INVALID', source, 'touch needs a request')
  validateKey(source, req.key)
  checkTtl(source, 'ttl', req.ttl)
  if (req.maxAge !== undefined) checkTtl(source, 'maxAge', req.maxAge)
  if (req.lease !== undefined) validateToken(source, req.lease)
}

export function validateLimit(source: string, limit: unknown): asserts limit is number {
  if (typeof limit !== 'number' || !Number.isInteger(limit) || limit < 1 || limit > 100_000) {
    throw new SessionError('E_INVALID', source, 'limit must be a whole number from 1 to 100000')
  }
}
