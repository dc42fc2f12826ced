import { SessionError } from './errors.js'

/** The data of a session: a JSON object. */
export type SessionData = Record<string, unknown>

const decoder = new TextDecoder('utf-8', { fatal: true })

// `__proto__` as an own key is harmless inside the parsed object but turns into a prototype
// assignment the moment user code spreads or Object.assigns it; such keys are dropped both ways.
function dropProto(this: unknown, key: string, value: unknown): unknown {
  if (key === '__proto__') return undefined
  if (typeof value === 'bigint') throw new TypeError(`BigInt at "${key}" cannot be stored as JSON`)
  return value
}

/**
 * Session data to UTF-8 JSON bytes. Refuses anything that is not a plain JSON object.
 */
export function serialize(data: unknown): Uint8Array {
  // Buffer.from is several times faster than TextEncoder for short strings (same bytes; lone
  // surrogates become U+FFFD either way).
  return Buffer.from(serializeText(data), 'utf8')
}

/** @internal {@link serialize} before the UTF-8 step: the manager prefixes an envelope header. */
export function serializeText(data: unknown): string {
  if (typeof data !== 'object' || data === null || Array.isArray(data)) {
    throw new SessionError('E_SERIALIZE', 'serialize', 'session data must be a plain object')
  }
  try {
    // The replacer takes JSON.stringify off V8's fast path, so it only runs when needed.
    const text: string | undefined = JSON.stringify(data)
    // A toJSON may turn the object into a string, null or an array: stored, it would read back as
    // no session (a silent logout and an orphan row).
    if (typeof text !== 'string' || text.charCodeAt(0) !== 0x7b)
      throw new TypeError('toJSON did not return an object')
    return text.includes('"__proto__"') ? JSON.stringify(data, dropProto) : text
  } catch (cause) {
    throw new SessionError(
      'E_SERIALIZE',
      'serialize',
      `session data cannot be stored as JSON: ${(cause as Error).message}`,
      { cause },
    )
  }
}

function reviveSafe(this: unknown, key: string, value: unknown): unknown {
  return key === '__proto__' ? undefined : value
}

/** UTF-8 JSON bytes back to session data; the result's prototype chain is never touched. */
export function deserialize(bytes: Uint8Array): SessionData {
  let value: unknown
  try {
    const text = decoder.decode(bytes)
    // Same for the reviver: only payloads that mention the key, or hold an escape that could
    // spell it (`"\u005f_proto__"`), pay for it.
    value =
      text.includes('__proto__') || text.includes('\\u') ? JSON.parse(text, reviveSafe) : JSON.parse(text)
  } catch (cause) {
    throw new SessionError('E_DECODE', 'serialize', 'stored session is not valid UTF-8 JSON', { cause })
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new SessionError('E_DECODE', 'serialize', 'stored session is not a JSON object')
  }
  return value as SessionData
}
