// Over 300 lines on purpose: one recursive-descent parser of PHP's serialize() format, whose
// cases (scalars, strings, arrays, objects, references, custom classes) share its bounds checks.
import { SessionError } from '@sessile/core'

/**
 * A value PHP wrote that JSON cannot carry faithfully (an object, a reference, a string that is not
 * UTF-8, an int beyond 2^53, a float like 2.0 or INF, an array whose key order JS would change):
 * kept as the exact bytes PHP wrote, so it goes back byte for byte.
 */
export interface RawValue {
  kind: RawKind
  /** The serialized value, exactly as in the payload. */
  raw: Buffer
  /** The object's class, for objects and enums. */
  class?: string
  /** Whether `raw` holds an `r:`/`R:` back-reference, whose meaning depends on what precedes it. */
  bound: boolean
  /** Offset of `raw` in the session-encoded payload (what precedes it is bound for references). */
  at: number
}

export type RawKind = 'object' | 'ref' | 'bytes' | 'int' | 'float' | 'array'

/** A decoded PHP value: JSON-like, with {@link RawValue}s where JSON falls short. */
export type PhpValue = null | boolean | number | string | PhpValue[] | { [key: string]: PhpValue } | RawValue

export interface ParseLimits {
  /** Deepest nesting of arrays and objects. */
  maxDepth: number
}

const utf8 = new TextDecoder('utf-8', { fatal: true })
const SOURCE = 'php'
const INT64_MAX = 9223372036854775807n
const INT64_MIN = -9223372036854775808n

export const malformed = (what: string, at: number): SessionError =>
  new SessionError('E_DECODE', SOURCE, `malformed PHP serialized data: ${what} at byte ${at}`)

export function isRaw(v: unknown): v is RawValue {
  return typeof v === 'object' && v !== null && Buffer.isBuffer((v as RawValue).raw) && 'kind' in v
}

/** Decode UTF-8 or give null: PHP strings are bytes, and only UTF-8 ones become JS strings. */
export function utf8OrNull(bytes: Uint8Array): string | null {
  try {
    return utf8.decode(bytes)
  } catch {
    return null
  }
}

/**
 * A bounded, non-allocating-ahead reader of PHP's `serialize()` format. Every length and count is
 * checked against the bytes that remain before anything is built, so a lying header cannot make it
 * allocate, loop or recurse beyond the input and `maxDepth`.
 */
export class Parser {
  pos: number
  constructor(
    readonly buf: Buffer,
    readonly limits: ParseLimits,
    start = 0,
    readonly end = buf.length,
  ) {
    this.pos = start
  }

  private byte(): number {
    if (this.pos >= this.end) throw malformed('unexpected end', this.pos)
    return this.buf[this.pos++] as number
  }

  private expect(ch: number, what: string): void {
    if (this.byte() !== ch) throw malformed(`expected ${what}`, this.pos - 1)
  }

  /** Digits (with an optional sign) up to `stop`; returns the text. */
  private digits(stop: number, signed: boolean): string {
    const from = this.pos
    if (signed && (this.buf[this.pos] === 0x2d || this.buf[this.pos] === 0x2b)) this.pos++
    const first = this.pos
    while (this.pos < this.end && this.buf[this.pos] !== stop) {
      const c = this.buf[this.pos] as number
      if (c < 0x30 || c > 0x39) throw malformed('expected a digit', this.pos)
      if (this.pos - first > 20) throw malformed('number too long', this.pos)
      this.pos++
    }
    if (this.pos === first) throw malformed('expected a number', this.pos)
    const text = this.buf.toString('latin1', from, this.pos)
    this.expect(stop, `"${String.fromCharCode(stop)}"`)
    return text
  }

  /** A length or count: non-negative and no larger than what the remaining bytes could hold. */
  private count(stop: number, unit: number): number {
    const text = this.digits(stop, false)
    const n = Number(text)
    if (!Number.isSafeInteger(n) || n * unit > this.end - this.pos)
      throw malformed('length exceeds the data', this.pos)
    return n
  }

  /** `s:N:"…";` body after `s:` — the N bytes. */
  private stringBytes(): Buffer {
    const n = this.count(0x3a, 1)
    this.expect(0x22, "'\"'")
    if (this.pos + n + 2 > this.end) throw malformed('string runs past the end', this.pos)
    const bytes = this.buf.subarray(this.pos, this.pos + n)
    this.pos += n
    this.expect(0x22, "'\"'")
    return bytes
  }

  /** One value. `depth` counts enclosing arrays and objects. */
  value(depth: number): PhpValue {
    const start = this.pos
    const tag = this.byte()
    if (tag === 0x4e /* N */) {
      this.expect(0x3b, '";"')
      return null
    }
    this.expect(0x3a, '":"')
    switch (tag) {
      case 0x62 /* b */:
        {
          const c = this.byte()
          if (c !== 0x30 && c !== 0x31) throw malformed('bool must be 0 or 1', this.pos - 1)
          this.expect(0x3b, '";"')
          return c === 0x31
        }
      case 0x69 /* i */:
        {
          const text = this.digits(0x3b, true)
          const big = BigInt(text)
          if (big > INT64_MAX || big < INT64_MIN) throw malformed('int out of 64-bit range', start)
          const n = Number(big)
          return Number.isSafeInteger(n) && !/^[+-]?0\d|^\+|^-0$/.test(text)
            ? n
            : this.raw('int', start, false)
        }
      case 0x64 /* d */:
        {
          const from = this.pos
          while (this.pos < this.end && this.buf[this.pos] !== 0x3b) {
            if (this.pos - from > 64) throw malformed('float too long', this.pos)
            this.pos++
          }
          const text = this.buf.toString('latin1', from, this.pos)
          this.expect(0x3b, '";"')
          if (!/^(?:[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?|-?INF|NAN)$/.test(text))
            throw malformed('bad float', from)
          const n = Number(text)
          // JSON has no INF, NAN or -0, and reads 2.0 as the int 2: those stay as PHP wrote them.
          return Number.isFinite(n) && !Number.isInteger(n) && String(phpFloat(n)) === text
            ? n
            : this.raw('float', start, false)
        }
      case 0x73 /* s */:
        {
          const bytes = this.stringBytes()
          this.expect(0x3b, '";"')
          const text = utf8OrNull(bytes)
          return text === null ? this.raw('bytes', start, false) : text
        }
      case 0x53 /* S: escaped string */:
        {
          const n = this.count(0x3a, 1)
          this.expect(0x22, "'\"'")
          for (let i = 0; i < n; i++) {
            if (this.byte() === 0x5c) {
              for (let h = 0; h < 2; h++) {
                const c = this.byte()
                if (!((c >= 0x30 && c <= 0x39) || (c >= 0x61 && c <= 0x66) || (c >= 0x41 && c <= 0x46)))
                  throw malformed('bad escape', this.pos - 1)
              }
            }
          }
          this.expect(0x22, "'\"'")
          this.expect(0x3b, '";"')
          return this.raw('bytes', start, false)
        }
      case 0x72 /* r */:
      case 0x52 /* R */:
        {
          const n = Number(this.digits(0x3b, false))
          if (!(n >= 1)) throw malformed('reference to slot 0', start)
          return this.raw('ref', start, true)
        }
      case 0x61 /* a */:
        return this.array(start, depth + 1)
      case 0x4f /* O */:
        return this.object(start, depth + 1)
      case 0x43 /* C */:
        {
          const cls = this.className()
          this.expect(0x3a, '":"')
          const n = this.count(0x3a, 1)
          this.expect(0x7b, '"{"')
          if (this.pos + n + 1 > this.end) throw malformed('custom object runs past the end', this.pos)
          this.pos += n
          this.expect(0x7d, '"}"')
          // Its body is the class's own serialize() output, with references of its own numbering.
          return this.raw('object', start, false, cls)
        }
      case 0x45 /* E: enum */:
        {
          const bytes = this.stringBytes()
          this.expect(0x3b, '";"')
          const name = utf8OrNull(bytes)
          if (name === null || !/^[A-Za-z_\\][\w\\]*:[A-Za-z_]\w*$/.test(name))
            throw malformed('bad enum', start)
          return this.raw('object', start, false, name.slice(0, name.indexOf(':')))
        }
      default:
        throw malformed(`unknown type "${String.fromCharCode(tag)}"`, start)
    }
  }

  private className(): string {
    const bytes = this.stringBytes()
    const name = utf8OrNull(bytes)
    if (name === null || !/^[A-Za-z_\x80-\uffff\\][\w\x80-\uffff\\]*$/.test(name))
      throw malformed('bad class name', this.pos)
    return name
  }

  private raw(kind: RawKind, start: number, bound: boolean, cls?: string): RawValue {
    const raw = Buffer.from(this.buf.subarray(start, this.pos))
    return cls === undefined ? { kind, raw, bound, at: start } : { kind, raw, bound, at: start, class: cls }
  }

  private checkDepth(depth: number, at: number): void {
    if (depth > this.limits.maxDepth) throw malformed(`nesting deeper than ${this.limits.maxDepth}`, at)
  }

  private array(start: number, depth: number): PhpValue {
    this.checkDepth(depth, start)
    // Every element takes at least 6 bytes ("i:0;N;"): a count the data cannot hold is refused.
    const n = this.count(0x3a, 6)
    this.expect(0x7b, '"{"')
    const keys: (string | number)[] = []
    const values: PhpValue[] = []
    let anyRaw = false
    let bound = false
    for (let i = 0; i < n; i++) {
      keys.push(this.key())
      const v = this.value(depth)
      if (isRaw(v)) {
        anyRaw = true
        bound ||= v.bound
      }
      values.push(v)
    }
    this.expect(0x7d, '"}"')
    if (keys.every((k, i) => k === i)) return values
    const out: Record<string, PhpValue> = Object.create(null)
    for (let i = 0; i < n; i++) {
      const k = String(keys[i])
      // Duplicate keys, `__proto__`, or an order JS objects would not keep: PHP's array stays raw.
      if (k === '__proto__' || Object.hasOwn(out, k)) return this.raw('array', start, bound)
      out[k] = values[i] as PhpValue
    }
    const order = Object.keys(out)
    if (order.some((k, i) => k !== String(keys[i]))) return this.raw('array', start, bound || anyRaw)
    return Object.setPrototypeOf(out, Object.prototype) as Record<string, PhpValue>
  }

  private key(): string | number {
    const at = this.pos
    const tag = this.byte()
    this.expect(0x3a, '":"')
    if (tag === 0x69) {
      const text = this.digits(0x3b, true)
      const n = Number(text)
      if (!Number.isSafeInteger(n) || String(n) !== text) throw malformed('array key out of range', at)
      return n
    }
    if (tag === 0x73) {
      const bytes = this.stringBytes()
      this.expect(0x3b, '";"')
      const text = utf8OrNull(bytes)
      if (text === null) throw malformed('array key is not UTF-8', at)
      return text
    }
    throw malformed('array key must be int or string', at)
  }

  private object(start: number, depth: number): RawValue {
    this.checkDepth(depth, start)
    const cls = this.className()
    this.expect(0x3a, '":"')
    const n = this.count(0x3a, 6)
    this.expect(0x7b, '"{"')
    let bound = false
    for (let i = 0; i < n; i++) {
      const at = this.pos
      const tag = this.byte()
      this.expect(0x3a, '":"')
      if (tag === 0x73) {
        this.stringBytes()
        this.expect(0x3b, '";"')
      } else if (tag === 0x69) this.digits(0x3b, true)
      else throw malformed('property name must be a string', at)
      const v = this.value(depth)
      if (isRaw(v)) bound ||= v.bound
    }
    this.expect(0x7d, '"}"')
    return this.raw('object', start, bound, cls)
  }
}

/**
 * PHP's float text for serialize (serialize_precision -1): the shortest round-trip digits, with an
 * exponent "1.0E-5" below 1e-4, as PHP's zend_gcvt writes it.
 */
export function phpFloat(n: number): string {
  const abs = Math.abs(n)
  if (abs !== 0 && abs < 1e-4) {
    const [mantissa, exp] = n.toExponential().split('e') as [string, string]
    const m = mantissa.includes('.') ? mantissa : `${mantissa}.0`
    return `${m}E${exp.startsWith('-') ? exp : `+${exp}`}`
  }
  return String(n)
}
