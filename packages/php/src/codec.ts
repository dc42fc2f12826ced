import { type SessionData, SessionError } from '@sessile/core'
import { Markers, Prefixes, toJson, Writer } from './_internal/encode.js'
import { gzcompress, gzuncompress, isZlib, rawurldecode, rawurlencode } from './_internal/layers.js'
import { isRaw, malformed, Parser, type PhpValue, utf8OrNull } from './_internal/unserialize.js'

export type { RawMarker } from './_internal/encode.js'

/** PHP's `session.serialize_handler`: `php` (`name|value…`) or `php_serialize` (one array). */
export type PhpSerializeHandler = 'php' | 'php_serialize'

export interface PhpCodecOptions {
  /**
   * The PHP app's `session.serialize_handler`.
   * @default 'php'
   */
  serializer?: PhpSerializeHandler
  /**
   * ADOdb's `rawurlencode` layer around the session string (adodb-session2.php always applies it;
   * a hand-written `session_set_save_handler` class usually does not).
   * @default true
   */
  urlencode?: boolean
  /**
   * Write through ADOdb's gzip filter (`ADODB_Compress_Gzip`, PHP's `gzcompress`). Reads accept
   * compressed and plain payloads either way, so the filter can be switched on or off at any time.
   * `level` is zlib's (PHP's default -1 is 6); payloads shorter than `minLength` are stored plain.
   * @default false
   */
  gzip?: boolean | { level?: number; minLength?: number }
  /**
   * Deepest nesting of arrays and objects read or written; deeper payloads are refused.
   * @default 64
   */
  maxDepth?: number
  /**
   * Largest session string in bytes (after inflating, before rawurlencode) read or written.
   * @default 1048576
   */
  maxSize?: number
}

/** Encodes and decodes the column bytes of a PHP session row. */
export interface PhpCodec {
  readonly options: Readonly<Required<Omit<PhpCodecOptions, 'gzip'>>> & {
    gzip: { level: number; minLength: number } | null
  }
  /**
   * The stored column bytes to session data. PHP values JSON cannot carry are markers
   * (`{ $php, class?, raw, sig }`) that {@link PhpCodec.encode} writes back byte for byte.
   * Throws `E_DECODE` for anything malformed, never anything else.
   */
  decode(stored: Uint8Array): SessionData
  /** Session data to the stored column bytes. Throws `E_SERIALIZE` for data PHP cannot hold. */
  encode(data: SessionData): Buffer
  /** The session string alone (PHP's `session_decode` input), without the ADOdb layers. */
  decodeSession(session: Uint8Array): SessionData
  /** PHP's `session_encode` output for `data`, without the ADOdb layers. */
  encodeSession(data: SessionData): Buffer
}

const fail = (message: string): never => {
  throw new SessionError('E_OPTION', 'php', message)
}

function resolve(options: PhpCodecOptions): PhpCodec['options'] {
  if (typeof options !== 'object' || options === null) fail('phpCodec needs an options object')
  const serializer = options.serializer ?? 'php'
  if (serializer !== 'php' && serializer !== 'php_serialize')
    fail(`serializer must be 'php' or 'php_serialize' (got ${String(serializer)})`)
  const maxDepth = options.maxDepth ?? 64
  if (!Number.isInteger(maxDepth) || maxDepth < 1 || maxDepth > 512)
    fail('maxDepth must be a whole number from 1 to 512')
  const maxSize = options.maxSize ?? 1024 * 1024
  if (!Number.isInteger(maxSize) || maxSize < 16 || maxSize > 256 * 1024 * 1024)
    fail('maxSize must be a whole number of bytes from 16 to 268435456')
  const g = options.gzip ?? false
  let gzip: { level: number; minLength: number } | null = null
  if (g !== false) {
    const o = g === true ? {} : g
    if (typeof o !== 'object' || o === null) fail('gzip must be a boolean or { level, minLength }')
    const level = o.level ?? 6
    const minLength = o.minLength ?? 1
    if (!Number.isInteger(level) || level < 0 || level > 9)
      fail('gzip.level must be a whole number from 0 to 9')
    if (!Number.isInteger(minLength) || minLength < 0) fail('gzip.minLength must be a whole number of bytes')
    gzip = { level, minLength }
  }
  const urlencode = options.urlencode ?? true
  if (typeof urlencode !== 'boolean') fail('urlencode must be a boolean')
  return { serializer, urlencode, gzip, maxDepth, maxSize }
}

/**
 * PHP's session encodings (`php`, `php_serialize`) with ADOdb's rawurlencode and gzip layers.
 *
 * @example
 * const codec = phpCodec({ serializer: 'php' })
 * codec.decode(Buffer.from('user%7Cs%3A3%3A%22ann%22%3B')) // { user: 'ann' }
 */
export function phpCodec(options: PhpCodecOptions = {}): PhpCodec {
  const o = resolve(options)
  const markers = new Markers()
  const limits = { maxDepth: o.maxDepth }

  function decodeSession(session: Uint8Array): SessionData {
    try {
      return decodeUnchecked(session)
    } catch (e) {
      // maxDepth keeps recursion far from V8's stack limit; this is the belt to those braces.
      if (e instanceof RangeError) throw malformed('nesting too deep for this process', 0)
      throw e
    }
  }

  function decodeUnchecked(session: Uint8Array): SessionData {
    const buf = Buffer.from(session.buffer, session.byteOffset, session.byteLength)
    if (buf.length > o.maxSize) throw malformed(`session larger than ${o.maxSize} bytes`, 0)
    if (buf.length === 0) return {}
    const out: Record<string, unknown> = {}
    if (o.serializer === 'php_serialize') {
      const p = new Parser(buf, limits)
      const v = p.value(0)
      if (p.pos !== buf.length) throw malformed('trailing bytes', p.pos)
      if (v === null || typeof v !== 'object' || isRaw(v)) throw malformed('session is not an array', 0)
      const entries: [string, PhpValue][] = Array.isArray(v)
        ? v.map((x, i) => [String(i), x])
        : Object.entries(v)
      const prefixes = new Prefixes(buf)
      for (const [k, x] of entries) out[k] = toJson(x, markers, prefixes)
      return out
    }
    let at = 0
    const prefixes = new Prefixes(buf)
    while (at < buf.length) {
      const bar = buf.indexOf(0x7c, at)
      if (bar < 0) throw malformed('variable name without "|"', at)
      const name = utf8OrNull(buf.subarray(at, bar))
      if (name === null || name.length === 0 || name === '__proto__' || Object.hasOwn(out, name))
        throw malformed('bad variable name', at)
      const p = new Parser(buf, limits, bar + 1)
      out[name] = toJson(p.value(0), markers, prefixes)
      at = p.pos
    }
    return out
  }

  function encodeSession(data: SessionData): Buffer {
    if (typeof data !== 'object' || data === null || Array.isArray(data))
      throw new SessionError('E_SERIALIZE', 'php', 'session data must be a plain object')
    const w = new Writer(markers, o.maxDepth, o.maxSize)
    if (o.serializer === 'php_serialize') {
      w.value(data, 0, '$_SESSION')
      return w.result()
    }
    for (const [name, value] of Object.entries(data)) {
      // PHP's php handler cannot hold these names: '|' ends a name, and numeric keys are skipped.
      if (name.length === 0 || name.includes('|') || /^-?\d+$/.test(name))
        throw new SessionError(
          'E_SERIALIZE',
          'php',
          `session field "${name}" has no form in PHP's php serializer (empty, numeric or containing "|")`,
        )
      w.text(`${name}|`)
      w.value(value, 0, name)
    }
    return w.result()
  }

  return {
    options: o,
    decodeSession,
    encodeSession,
    decode(stored) {
      let b: Uint8Array = stored
      if ((o.urlencode || o.gzip) && isZlib(b)) b = gzuncompress(b, o.urlencode ? o.maxSize * 3 : o.maxSize)
      if (o.urlencode) b = rawurldecode(b)
      return decodeSession(b)
    },
    encode(data) {
      let b: Buffer = encodeSession(data)
      if (o.urlencode) b = rawurlencode(b)
      if (o.gzip && b.length >= o.gzip.minLength) b = gzcompress(b, o.gzip.level)
      return b
    },
  }
}
