import { type ReadResult, SessionError, type SessionInfo } from '@sessile/core'

/**
 * A row is one Redis string: a fixed header, the ref's UTF-8 bytes, then the data (see
 * `lua.ts`, which writes it). One string makes a read a plain `GET` with one reply to parse.
 */
export const HEAD = 59
const LAYOUT = 0x31 // '1'
// Where each header field starts; each ends where the next begins (the ref length at HEAD).
const CREATED = 1
const MODIFIED = 14
const EXPIRY = 27
const VERSION = 40
const REF_LENGTH = 56

/** Decimal digits of b[from, to), read without making a string of them. */
function digits(b: Uint8Array, from: number, to: number): number {
  let n = 0
  for (let i = from; i < to; i++) n = n * 10 + ((b[i] as number) - 48)
  return n
}

function check(source: string, b: Uint8Array): void {
  if (b.length < HEAD || b[0] !== LAYOUT) {
    throw new SessionError('E_STORE', source, 'a session key holds a value this store did not write')
  }
}

/** The header fields every query reports. */
export function infoOf(source: string, key: string, ref: string | null, b: Uint8Array): SessionInfo {
  check(source, b)
  return {
    key,
    ref,
    created: new Date(digits(b, CREATED, MODIFIED)),
    modified: new Date(digits(b, MODIFIED, EXPIRY)),
    expiry: new Date(digits(b, EXPIRY, VERSION)),
    version: digits(b, VERSION, REF_LENGTH),
  }
}

/**
 * The data's bytes: a view into the reply when they are at least a quarter of the memory it
 * arrived in (holding the session then keeps at most four times its size alive, and large
 * payloads are not copied), a copy otherwise (a small payload must not pin a whole socket chunk).
 * The copy comes from `Buffer.allocUnsafe`, Node's shared pool below 4 KiB, which costs a
 * fraction of a typed array of its own; every byte of it is overwritten at once.
 */
function dataOf(b: Buffer, from: number): Uint8Array {
  const length = b.byteLength - from
  if (length * 4 >= b.buffer.byteLength) return new Uint8Array(b.buffer, b.byteOffset + from, length)
  const copy = Buffer.allocUnsafe(length)
  b.copy(copy, 0, from)
  return new Uint8Array(copy.buffer, copy.byteOffset, length)
}

/** A whole row as the store reports it (the same header fields as {@link infoOf}). */
export function rowOf(source: string, key: string, b: Buffer, now: number): ReadResult {
  check(source, b)
  const n = digits(b, REF_LENGTH, HEAD)
  return {
    key,
    data: dataOf(b, HEAD + n),
    ref: n === 0 ? null : b.toString('utf8', HEAD, HEAD + n),
    created: new Date(digits(b, CREATED, MODIFIED)),
    modified: new Date(digits(b, MODIFIED, EXPIRY)),
    expiry: new Date(digits(b, EXPIRY, VERSION)),
    version: digits(b, VERSION, REF_LENGTH),
    now: new Date(now),
  }
}
