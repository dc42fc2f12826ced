import { createSecretKey, type KeyObject } from 'node:crypto'
import { describeValue, optionError } from './check.js'

const SOURCE = 'aes-256-gcm'
const KEY_BYTES = 32
const ID_PATTERN = /^[A-Za-z0-9._-]{1,64}$/
const HEX = /^[0-9a-fA-F]{64}$/
const BASE64 = /^[A-Za-z0-9+/]{43}=?$/
const BASE64URL = /^[A-Za-z0-9_-]{43}=?$/

/** A key as users hold it: raw bytes, or 32 bytes written as base64, base64url or hex. */
export type KeyInput = string | Uint8Array

const HOW = 'use crypto.randomBytes(32), or its .toString("base64") or .toString("hex")'

// Buffer.from(s, 'base64') silently skips characters it does not know, so a mangled key (a
// passphrase, a stray newline) would quietly become a different key. Only exact encodings pass,
// and only the canonical one: re-encoding must give back the same text.
function decodeString(id: string, text: string): Buffer {
  if (HEX.test(text)) return Buffer.from(text, 'hex')
  const url = BASE64URL.test(text)
  if (url || BASE64.test(text)) {
    const bytes = Buffer.from(text, url ? 'base64url' : 'base64')
    const again = bytes.toString(url ? 'base64url' : 'base64').replace(/=+$/, '')
    if (again === text.replace(/=$/, '')) return bytes
  }
  throw optionError(
    SOURCE,
    `key "${id}" is ${describeValue(text)} that is not 32 bytes of base64, base64url or hex; ${HOW}`,
  )
}

function toKey(id: string, value: unknown): KeyObject {
  let bytes: Buffer
  if (value instanceof Uint8Array) bytes = Buffer.from(value)
  else if (typeof value === 'string') bytes = decodeString(id, value)
  else
    throw optionError(SOURCE, `key "${id}" must be bytes or a string (got ${describeValue(value)}); ${HOW}`)
  if (bytes.length !== KEY_BYTES) {
    throw optionError(
      SOURCE,
      `key "${id}" must be exactly 32 bytes for AES-256 (got ${bytes.length}); ${HOW}`,
    )
  }
  // An all-zero key is what Buffer.alloc(32) or an unset variable decoded as hex gives: a bug.
  if (bytes.every((b) => b === 0)) throw optionError(SOURCE, `key "${id}" is all zero bytes; ${HOW}`)
  const key = createSecretKey(bytes)
  bytes.fill(0)
  return key
}

/** Validate a keyring (plain object or Map of id to key) into KeyObjects. */
export function parseKeyring(keys: unknown): Map<string, KeyObject> {
  let entries: [unknown, unknown][]
  if (keys instanceof Map) entries = [...keys.entries()]
  else if (
    typeof keys === 'object' &&
    keys !== null &&
    !Array.isArray(keys) &&
    !(keys instanceof Uint8Array)
  ) {
    entries = Object.entries(keys)
  } else {
    throw optionError(
      SOURCE,
      `keys must be an object of key id to 32-byte key, e.g. { k1: key } (got ${describeValue(keys)})`,
    )
  }
  if (entries.length === 0) throw optionError(SOURCE, 'keys must hold at least one key')
  const ring = new Map<string, KeyObject>()
  for (const [id, value] of entries) {
    if (typeof id !== 'string' || !ID_PATTERN.test(id)) {
      throw optionError(
        SOURCE,
        `key id must be 1 to 64 of [A-Za-z0-9._-] (got ${typeof id === 'string' ? JSON.stringify(id) : describeValue(id)})`,
      )
    }
    ring.set(id, toKey(id, value))
  }
  return ring
}
