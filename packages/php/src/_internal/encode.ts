import { createHash, createHmac, type Hash, randomBytes } from 'node:crypto'
import { SessionError } from '@sessile/core'
import { isRaw, type PhpValue, phpFloat, type RawValue } from './unserialize.js'

const SOURCE = 'php'
const LONE_SURROGATE = /\p{Surrogate}/u
const INT_KEY = /^(?:0|-?[1-9]\d{0,15})$/

/** The JSON form of a kept PHP value: `{ $php, class?, raw, sig }`. */
export interface RawMarker {
  /** What PHP value this is: `object`, `ref`, `bytes`, `int`, `float` or `array`. */
  $php: string
  /** The class of an object or enum. */
  class?: string
  /** The value exactly as PHP serialized it, base64. */
  raw: string
  /** Proof that this process read it so (HMAC with a per-process key). */
  sig: string
}

const refuse = (message: string): SessionError => new SessionError('E_SERIALIZE', SOURCE, message)

/**
 * Signs and checks markers. The key is per process: a marker lives from a read to the write of the
 * same request, always in one process, so nothing outside can forge or alter one undetected.
 */
export class Markers {
  private readonly key = randomBytes(32)

  sign(kind: string, cls: string | undefined, raw: Buffer, prefix: string): string {
    return createHmac('sha256', this.key)
      .update(`${kind}\0${cls ?? ''}\0${prefix}\0`)
      .update(raw)
      .digest('base64url')
  }

  /** The JSON marker of a raw value; `prefix` is the hash of the bytes before a bound one. */
  toJson(v: RawValue, prefix: string): RawMarker {
    const sig = this.sign(v.kind, v.class, v.raw, v.bound ? prefix : '')
    const m: RawMarker = { $php: v.kind, raw: v.raw.toString('base64'), sig }
    if (v.class !== undefined) m.class = v.class
    return m
  }
}

/**
 * Hashes of the session bytes before each bound value, in one pass: values are met in payload
 * order, so each hash extends the last (many references never cost quadratic time).
 */
export class Prefixes {
  private readonly hash: Hash = createHash('sha256')
  private pos = 0
  constructor(private readonly session: Buffer) {}

  before(at: number): string {
    if (at < this.pos) return createHash('sha256').update(this.session.subarray(0, at)).digest('base64url')
    this.hash.update(this.session.subarray(this.pos, at))
    this.pos = at
    return this.hash.copy().digest('base64url')
  }
}

export function isMarker(v: object): boolean {
  return Object.hasOwn(v, '$php')
}

/** Convert a decoded PHP value to JSON-like data, markers in place of raw values. */
export function toJson(v: PhpValue, markers: Markers, prefixes: Prefixes): unknown {
  if (v === null || typeof v !== 'object') return v
  if (isRaw(v)) return markers.toJson(v, v.bound ? prefixes.before(v.at) : '')
  if (Array.isArray(v)) return v.map((x) => toJson(x, markers, prefixes))
  const out: Record<string, unknown> = {}
  for (const [k, x] of Object.entries(v)) out[k] = toJson(x, markers, prefixes)
  return out
}

/** Writes PHP's serialize() format from JSON-like data, keeping markers byte for byte. */
export class Writer {
  private readonly chunks: Buffer[] = []
  private readonly hash: Hash = createHash('sha256')
  private size = 0

  constructor(
    private readonly markers: Markers,
    private readonly maxDepth: number,
    private readonly maxSize: number,
  ) {}

  text(s: string): void {
    this.bytes(Buffer.from(s, 'utf8'))
  }

  bytes(b: Buffer): void {
    this.size += b.length
    if (this.size > this.maxSize)
      throw new SessionError(
        'E_TOO_LARGE',
        SOURCE,
        `PHP payload exceeds ${this.maxSize} bytes; nothing was written`,
      )
    this.chunks.push(b)
    this.hash.update(b)
  }

  result(): Buffer {
    return Buffer.concat(this.chunks)
  }

  string(s: string): void {
    if (LONE_SURROGATE.test(s)) throw refuse('a string with a lone surrogate has no UTF-8 form for PHP')
    const b = Buffer.from(s, 'utf8')
    this.text(`s:${b.length}:"`)
    this.bytes(b)
    this.text('";')
  }

  value(v: unknown, depth: number, path: string): void {
    if (v === null) {
      this.text('N;')
      return
    }
    switch (typeof v) {
      case 'boolean': {
        this.text(v ? 'b:1;' : 'b:0;')
        return
      }
      case 'number':
        if (Number.isSafeInteger(v) && !Object.is(v, -0)) {
          this.text(`i:${v};`)
          return
        }
        if (!Number.isFinite(v)) throw refuse(`${path} is not a finite number`)
        {
          this.text(`d:${phpFloat(v)};`)
          return
        }
      case 'string': {
        this.string(v)
        return
      }
      case 'object':
        break
      default:
        throw refuse(`${path} (${typeof v}) has no PHP form`)
    }
    if (depth >= this.maxDepth) throw refuse(`${path} nests deeper than ${this.maxDepth}`)
    if (Array.isArray(v)) {
      this.text(`a:${v.length}:{`)
      v.forEach((x, i) => {
        this.text(`i:${i};`)
        this.value(x, depth + 1, `${path}[${i}]`)
      })
      this.text('}')
      return
    }
    const o = v as Record<string, unknown>
    if (isMarker(o)) {
      this.marker(o, path)
      return
    }
    const entries = Object.entries(o)
    this.text(`a:${entries.length}:{`)
    for (const [k, x] of entries) {
      this.key(k)
      this.value(x, depth + 1, `${path}.${k}`)
    }
    this.text('}')
  }

  /** An array key as PHP stores it: decimal integer strings are int keys in PHP arrays. */
  key(k: string): void {
    if (INT_KEY.test(k) && Number.isSafeInteger(Number(k))) this.text(`i:${k};`)
    else this.string(k)
  }

  private marker(o: Record<string, unknown>, path: string): void {
    const { $php: kind, class: cls, raw, sig, ...rest } = o
    const changed = (): SessionError =>
      refuse(
        `${path} is a PHP ${String(kind)} Node cannot change (only keep or delete it): its marker was altered or made outside a read`,
      )
    if (
      Object.keys(rest).length > 0 ||
      typeof kind !== 'string' ||
      typeof raw !== 'string' ||
      typeof sig !== 'string' ||
      (cls !== undefined && typeof cls !== 'string')
    )
      throw changed()
    const bytes = Buffer.from(raw, 'base64')
    if (bytes.toString('base64') !== raw) throw changed()
    const c = cls as string | undefined
    if (this.markers.sign(kind, c, bytes, '') === sig) {
      this.bytes(bytes)
      return
    }
    // A back-reference counts the values before it: valid only where everything before is unchanged.
    const prefix = this.hash.copy().digest('base64url')
    if (this.markers.sign(kind, c, bytes, prefix) === sig) {
      this.bytes(bytes)
      return
    }
    if (kind === 'ref' || /[rR]:\d+;/.test(bytes.toString('latin1')))
      throw refuse(
        `${path} holds a PHP reference, which points at values before it; Node changed something before it, so it cannot be written faithfully`,
      )
    throw changed()
  }
}
