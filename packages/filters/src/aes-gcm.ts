import { createCipheriv, createDecipheriv, type KeyObject } from 'node:crypto'
import { type Filter, randomBytesPooled, SessionError } from '@sessile/core'
import { checkOptionsObject, describeValue, optionError } from './_internal/check.js'
import { type KeyInput, parseKeyring } from './_internal/keyring.js'

export type { KeyInput } from './_internal/keyring.js'

const ID = 'aes-256-gcm'
const IV_BYTES = 12
const TAG_BYTES = 16

/** Options of {@link aesGcm}. */
export interface AesGcmOptions {
  /**
   * The keyring: key id (1 to 64 of `[A-Za-z0-9._-]`) to a 32-byte key, given as a Buffer or
   * Uint8Array, or as a base64, base64url or hex string. Keep a retired key here for as long as
   * sessions written under it may still be alive (the absolute timeout); payloads under a key
   * that is no longer listed read as "no session".
   */
  keys: Readonly<Record<string, KeyInput>> | ReadonlyMap<string, KeyInput>
  /** The id of the key new payloads are written under; it must be in `keys`. */
  current: string
  /**
   * Read payloads that carry no `aes-256-gcm` layer at all, as stored before encryption was
   * turned on (they are rewritten encrypted on their next commit). Leave it off except during
   * such a migration: while it is on, anyone who can write to the session table can forge a
   * session by storing an unencrypted payload.
   * @default false
   */
  acceptUnencrypted?: boolean
}

function decodeError(message: string, cause?: unknown): SessionError {
  return new SessionError('E_DECODE', ID, message, cause === undefined ? undefined : { cause })
}

/**
 * AES-256-GCM encryption with a keyring. Each payload gets a fresh random 12-byte IV and a full
 * 16-byte tag; the associated data binds the envelope header (filters, key id) and the session's
 * storage key, so a payload copied into another session's row, or relabelled with another key id,
 * does not decrypt. Body layout: `iv (12) || ciphertext || tag (16)`; the envelope param is the
 * key id in ASCII.
 *
 * New payloads use `current`; payloads under any other listed key are read and then rewritten
 * under `current` on their next commit. A payload that fails to decrypt (tampered, truncated,
 * unknown or removed key) reads as no session and is reported through the `decodeError` event.
 *
 * @example
 * const sessions = createSessions({
 *   store,
 *   filters: [aesGcm({ keys: { k2: process.env.SESSION_KEY_2, k1: process.env.SESSION_KEY_1 }, current: 'k2' })],
 * })
 */
export function aesGcm(options: AesGcmOptions): Filter {
  if (options === undefined) throw optionError(ID, 'aesGcm needs options { keys, current }')
  const o = checkOptionsObject(ID, options)
  const ring = parseKeyring(o.keys)
  if (typeof o.current !== 'string') {
    throw optionError(ID, `current must name the key id for new payloads (got ${describeValue(o.current)})`)
  }
  const currentId = o.current
  const currentKey = ring.get(currentId)
  if (!currentKey) {
    throw optionError(ID, `current key "${currentId}" is not in keys (${[...ring.keys()].join(', ')})`)
  }
  if (o.acceptUnencrypted !== undefined && typeof o.acceptUnencrypted !== 'boolean') {
    throw optionError(ID, `acceptUnencrypted must be a boolean (got ${describeValue(o.acceptUnencrypted)})`)
  }
  const currentParam = Buffer.from(currentId, 'ascii')

  return {
    id: ID,
    required: o.acceptUnencrypted !== true,
    encode(input, context) {
      const iv = randomBytesPooled(IV_BYTES)
      const cipher = createCipheriv(ID, currentKey, iv, { authTagLength: TAG_BYTES })
      cipher.setAAD(context.aad(currentParam))
      const head = cipher.update(input)
      const tail = cipher.final()
      return { data: Buffer.concat([iv, head, tail, cipher.getAuthTag()]), param: currentParam }
    },
    decode(input, param, context) {
      const keyId = Buffer.from(param.buffer, param.byteOffset, param.byteLength).toString('latin1')
      const key: KeyObject | undefined = ring.get(keyId)
      if (!key) throw decodeError(`payload is encrypted under key "${keyId}", which is not in the keyring`)
      if (input.byteLength < IV_BYTES + TAG_BYTES) {
        throw decodeError(`payload of ${input.byteLength} bytes is too short for iv and tag`)
      }
      if (input.byteLength - IV_BYTES - TAG_BYTES > context.maxSize) {
        throw decodeError(`payload exceeds the size limit of ${context.maxSize} bytes`)
      }
      const body = Buffer.from(input.buffer, input.byteOffset, input.byteLength)
      const tagAt = body.length - TAG_BYTES
      // authTagLength plus taking exactly the last 16 bytes: Node would otherwise verify a tag
      // of any length from 4 bytes up, letting a forger guess a 32-bit tag.
      const decipher = createDecipheriv(ID, key, body.subarray(0, IV_BYTES), { authTagLength: TAG_BYTES })
      decipher.setAAD(context.aad)
      decipher.setAuthTag(body.subarray(tagAt))
      const head = decipher.update(body.subarray(IV_BYTES, tagAt))
      try {
        const tail = decipher.final()
        return tail.length === 0 ? head : Buffer.concat([head, tail])
      } catch (cause) {
        throw decodeError(
          'payload failed authentication: tampered, truncated, or written for another session or key',
          cause,
        )
      }
    },
    isCurrent: (param) => Buffer.from(param.buffer, param.byteOffset, param.byteLength).equals(currentParam),
  }
}
