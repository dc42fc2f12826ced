import { isSessionError } from '@sessile/core'
import { describe, expect, it } from 'vitest'
import { phpCodec } from '../src/index.js'

// What PHP 8.2's session_encode() wrote for a session with these fields (php handler).
const PHP_SESSION = Buffer.concat([
  Buffer.from(
    'user|s:3:"ann";n|i:3;f|d:2;g|d:0.1;arr|a:2:{s:1:"a";a:3:{i:0;i:1;i:1;i:2;i:2;s:2:"\u00e9";}s:1:"x";N;}',
  ),
  Buffer.from('obj|O:3:"Foo":2:{s:1:"a";i:1;s:6:"\0Foo\0b";s:1:"x";}o2|O:8:"stdClass":0:{}o3|r:15;'),
  Buffer.from('bin|s:2:"'),
  Buffer.from([0xff, 0x00]),
  Buffer.from('";small|d:1.0E-5;mixed|a:2:{s:1:"b";i:1;i:5;i:2;}'),
])

const error = (fn: () => unknown) => {
  try {
    fn()
  } catch (e) {
    return e
  }
  throw new Error('expected a throw')
}

describe('php serializer', () => {
  const codec = phpCodec({ serializer: 'php', urlencode: false })

  it('maps strings, ints, floats, null and nested arrays to JSON values', () => {
    const data = codec.decodeSession(PHP_SESSION)
    expect(data.user).toBe('ann')
    expect(data.n).toBe(3)
    expect(data.g).toBe(0.1)
    expect(data.small).toBe(0.00001)
    expect(data.arr).toEqual({ a: [1, 2, 'é'], x: null })
  })

  it('keeps objects, references, binary strings, integral floats and key orders JS would change as signed markers', () => {
    const data = codec.decodeSession(PHP_SESSION) as Record<string, { $php?: string; class?: string }>
    expect(data.obj).toMatchObject({ $php: 'object', class: 'Foo' })
    expect(data.o2).toMatchObject({ $php: 'object', class: 'stdClass' })
    expect(data.o3).toMatchObject({ $php: 'ref' })
    expect(data.bin).toMatchObject({ $php: 'bytes' })
    expect(data.f).toMatchObject({ $php: 'float' })
    expect(data.mixed).toMatchObject({ $php: 'array' })
  })

  it('writes an unchanged session back byte for byte, also after a JSON round trip', () => {
    const data = JSON.parse(JSON.stringify(codec.decodeSession(PHP_SESSION)))
    expect(codec.encodeSession(data).equals(PHP_SESSION)).toBe(true)
  })

  it('writes a changed field and keeps the kept values byte for byte', () => {
    const data = JSON.parse(JSON.stringify(codec.decodeSession(PHP_SESSION)))
    data.small = 4
    data.added = [true]
    const out = codec.encodeSession(data)
    expect(out.includes(Buffer.from('small|i:4;'))).toBe(true)
    expect(out.subarray(-20).toString()).toBe('added|a:1:{i:0;b:1;}')
    expect(out.includes(Buffer.from('obj|O:3:"Foo":2:{s:1:"a";i:1;s:6:"\0Foo\0b";s:1:"x";}'))).toBe(true)
  })

  it('refuses a changed object marker with E_SERIALIZE', () => {
    const data = JSON.parse(JSON.stringify(codec.decodeSession(PHP_SESSION)))
    data.obj.class = 'Bar'
    const e = error(() => codec.encodeSession(data))
    expect(isSessionError(e) && e.code).toBe('E_SERIALIZE')
    data.obj = { $php: 'object', raw: Buffer.from('O:8:"stdClass":0:{}').toString('base64'), sig: 'forged' }
    expect(isSessionError(error(() => codec.encodeSession(data)))).toBe(true)
  })

  it('refuses a reference whose preceding values changed, and writes it when only later values changed', () => {
    const base = JSON.parse(JSON.stringify(codec.decodeSession(PHP_SESSION)))
    const later = structuredClone(base)
    later.small = 0.5
    expect(codec.encodeSession(later).includes(Buffer.from('o3|r:15;'))).toBe(true)
    const earlier = structuredClone(base)
    earlier.user = 'bob'
    const e = error(() => codec.encodeSession(earlier))
    expect(isSessionError(e) && e.message).toMatch(/reference/)
  })

  it('refuses field names PHP cannot hold, lone surrogates and non-finite numbers', () => {
    for (const data of [{ 'a|b': 1 }, { '5': 1 }, { a: '\ud800' }, { a: Number.NaN }]) {
      const e = error(() => codec.encodeSession(data))
      expect(isSessionError(e) && e.code).toBe('E_SERIALIZE')
    }
  })

  it('counts string lengths in UTF-8 bytes', () => {
    expect(codec.encodeSession({ s: 'é€😀' }).toString()).toBe('s|s:9:"é€😀";')
    expect(codec.decodeSession(Buffer.from('s|s:9:"é€😀";'))).toEqual({ s: 'é€😀' })
    expect(isSessionError(error(() => codec.decodeSession(Buffer.from('s|s:3:"é€😀";'))))).toBe(true)
  })
})

describe('php_serialize serializer', () => {
  const codec = phpCodec({ serializer: 'php_serialize', urlencode: false })
  it('reads and writes the whole session as one array', () => {
    const bytes = Buffer.from('a:2:{s:4:"user";s:3:"ann";s:4:"cart";a:2:{i:0;i:7;i:1;i:9;}}')
    const data = codec.decodeSession(bytes)
    expect(data).toEqual({ user: 'ann', cart: [7, 9] })
    expect(codec.encodeSession(JSON.parse(JSON.stringify(data))).equals(bytes)).toBe(true)
  })
  it('refuses a session that is not an array', () => {
    expect(isSessionError(error(() => codec.decodeSession(Buffer.from('s:1:"a";'))))).toBe(true)
  })
})

describe("ADOdb's layers", () => {
  it('rawurlencodes like PHP and reads it back', () => {
    const codec = phpCodec()
    const out = codec.encode({ user: 'a b~é' })
    expect(out.toString()).toBe('user%7Cs%3A6%3A%22a%20b~%C3%A9%22%3B')
    expect(codec.decode(out)).toEqual({ user: 'a b~é' })
  })
  it('writes through gzip when asked and reads compressed and plain payloads either way', () => {
    const gz = phpCodec({ gzip: true })
    const plain = phpCodec()
    const z = gz.encode({ user: 'ann' })
    expect(z[0]).toBe(0x78)
    expect(plain.decode(z)).toEqual({ user: 'ann' })
    expect(gz.decode(plain.encode({ user: 'ann' }))).toEqual({ user: 'ann' })
  })
  it('caps inflation at maxSize: a small bomb is E_DECODE', async () => {
    const { deflateSync } = await import('node:zlib')
    const bomb = deflateSync(Buffer.alloc(8 * 1024 * 1024, 0x41))
    const e = error(() => phpCodec({ maxSize: 1024 * 1024 }).decode(bomb))
    expect(isSessionError(e) && e.code).toBe('E_DECODE')
  })
})

describe('options', () => {
  it('refuses wrong option values with E_OPTION', () => {
    for (const o of [
      { serializer: 'wddx' },
      { maxDepth: 0 },
      { gzip: { level: 12 } },
      { urlencode: 'yes' },
    ]) {
      const e = error(() => phpCodec(o as never))
      expect(isSessionError(e) && e.code).toBe('E_OPTION')
    }
  })
})
