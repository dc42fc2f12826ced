import { type ReadResult, SessionError, type SessionInfo, type StoredSession } from '@sessile/core'

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

/** The most one socket read in Node holds, and the least payload that may keep one alive. */
const SOCKET_READ = 64 * 1024
const VIEW_MIN = 4 * 1024

/**
 * The data's bytes: a view into the reply when holding the session keeps little else alive (the
 * data is at least a quarter of the memory it arrived in, or at least 4 KiB of one socket read, so
 * at most 16 times its size), else a copy: a small payload must not pin a socket read, nor any
 * payload the reply parser's pool of several MB. Views spare large payloads a buffer of their own
 * outside V8's heap, whose growth sets off full garbage collections.
 * The copy comes from `Buffer.allocUnsafe`, Node's shared pool below 4 KiB, which costs a
 * fraction of a typed array of its own; every byte of it is overwritten at once.
 */
function dataOf(b: Buffer, from: number): Uint8Array {
  const length = b.byteLength - from
  const memory = b.buffer.byteLength
  if (length * 4 >= memory || (length >= VIEW_MIN && memory <= SOCKET_READ)) {
    return new Uint8Array(b.buffer, b.byteOffset + from, length)
  }
  const copy = Buffer.allocUnsafe(length)
  b.copy(copy, 0, from)
  return new Uint8Array(copy.buffer, copy.byteOffset, length)
}

/** A whole row as the store reports it (the same header fields as {@link infoOf}). */
export function storedOf(source: string, key: string, b: Buffer): StoredSession {
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
  }
}

/** A row as a read returns it: {@link storedOf} and the store's clock `now`. */
export function rowOf(source: string, key: string, b: Buffer, now: number): ReadResult {
  const r = storedOf(source, key, b) as ReadResult
  r.now = new Date(now)
  return r
}
