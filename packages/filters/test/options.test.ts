import { randomBytes } from 'node:crypto'
import { isSessionError } from '@sessile/core'
import { describe, expect, it } from 'vitest'
import { aesGcm, brotli, gzip } from '../src/index.js'
import { decode, encode, newKey } from './_helpers.js'

function optionError(fn: () => unknown): string {
  try {
    fn()
  } catch (e) {
    expect(isSessionError(e), String(e)).toBe(true)
    if (!isSessionError(e)) throw e
    expect(e.code).toBe('E_OPTION')
    return e.message
  }
  throw new Error('expected an E_OPTION SessionError, nothing was thrown')
}

describe('gzip and brotli options', () => {
  it('accept their documented ranges', () => {
    for (const level of [1, 9]) expect(gzip({ level }).id).toBe('gzip')
    for (const quality of [0, 11]) expect(brotli({ quality }).id).toBe('brotli')
    expect(gzip({ threshold: 0 }).id).toBe('gzip')
  })

  it.each([
    ['gzip level 0', () => gzip({ level: 0 }), /level must be a whole number from 1 to 9/],
    ['gzip level 10', () => gzip({ level: 10 }), /level/],
    ['gzip level 1.5', () => gzip({ level: 1.5 }), /level/],
    ['gzip level "6"', () => gzip({ level: '6' as never }), /level/],
    ['gzip threshold -1', () => gzip({ threshold: -1 }), /threshold/],
    ['gzip threshold NaN', () => gzip({ threshold: Number.NaN }), /threshold/],
    ['brotli quality 12', () => brotli({ quality: 12 }), /quality must be a whole number from 0 to 11/],
    ['brotli quality -1', () => brotli({ quality: -1 }), /quality/],
    ['brotli threshold Infinity', () => brotli({ threshold: Number.POSITIVE_INFINITY }), /threshold/],
    ['gzip options not an object', () => gzip(5 as never), /options must be an object/],
    ['brotli options array', () => brotli([] as never), /options must be an object/],
  ])('%s is E_OPTION', (_name, fn, message) => {
    expect(optionError(fn)).toMatch(message)
  })
})

describe('aesGcm keys', () => {
  const raw = newKey()

  it('accepts Buffer, Uint8Array, base64, unpadded base64, base64url and hex for the same key', async () => {
    const forms = [
      raw,
      new Uint8Array(raw),
      raw.toString('base64'),
      raw.toString('base64').replace(/=$/, ''),
      raw.toString('base64url'),
      raw.toString('hex'),
      raw.toString('hex').toUpperCase(),
    ]
    const writer = [aesGcm({ keys: { k: raw }, current: 'k' })]
    const payload = await encode(writer, Buffer.from('secret'))
    for (const form of forms) {
      const reader = [aesGcm({ keys: { k: form }, current: 'k' })]
      expect(Buffer.from(await decode(reader, payload)).toString()).toBe('secret')
    }
  })

  it('accepts a Map keyring', async () => {
    const filters = [aesGcm({ keys: new Map([['k', raw]]), current: 'k' })]
    const payload = await encode(filters, Buffer.from('x'))
    expect(Buffer.from(await decode(filters, payload)).toString()).toBe('x')
  })

  it('does not keep a reference to the caller buffer (zeroing it afterwards changes nothing)', async () => {
    const mine = Buffer.from(raw)
    const filters = [aesGcm({ keys: { k: mine }, current: 'k' })]
    mine.fill(0)
    const payload = await encode(filters, Buffer.from('x'))
    const reader = [aesGcm({ keys: { k: raw }, current: 'k' })]
    expect(Buffer.from(await decode(reader, payload)).toString()).toBe('x')
  })

  const b64 = raw.toString('base64')
  it.each([
    ['no options', () => aesGcm(undefined as never), /needs options/],
    ['options not an object', () => aesGcm('k' as never), /options must be an object/],
    ['keys missing', () => aesGcm({ current: 'k' } as never), /keys must be an object/],
    ['keys an array', () => aesGcm({ keys: [raw] as never, current: '0' }), /keys must be an object/],
    ['keys a Buffer', () => aesGcm({ keys: raw as never, current: 'k' }), /keys must be an object/],
    ['empty keyring', () => aesGcm({ keys: {}, current: 'k' }), /at least one key/],
    ['empty Map', () => aesGcm({ keys: new Map(), current: 'k' }), /at least one key/],
    ['current missing', () => aesGcm({ keys: { k: raw } } as never), /current must name/],
    ['current not listed', () => aesGcm({ keys: { k: raw }, current: 'k2' }), /"k2" is not in keys \(k\)/],
    ['16-byte key', () => aesGcm({ keys: { k: randomBytes(16) }, current: 'k' }), /exactly 32 bytes.*got 16/],
    ['33-byte key', () => aesGcm({ keys: { k: randomBytes(33) }, current: 'k' }), /exactly 32 bytes.*got 33/],
    ['all-zero key', () => aesGcm({ keys: { k: Buffer.alloc(32) }, current: 'k' }), /all zero/],
    [
      'a passphrase',
      () => aesGcm({ keys: { k: 'correct horse battery staple!!!!' }, current: 'k' }),
      /not 32 bytes of base64/,
    ],
    [
      'base64 of 24 bytes',
      () => aesGcm({ keys: { k: randomBytes(24).toString('base64') }, current: 'k' }),
      /not 32 bytes/,
    ],
    [
      'hex of 31 bytes',
      () => aesGcm({ keys: { k: randomBytes(31).toString('hex') }, current: 'k' }),
      /not 32 bytes/,
    ],
    [
      'base64 with a trailing newline',
      () => aesGcm({ keys: { k: `${b64}\n` }, current: 'k' }),
      /not 32 bytes/,
    ],
    [
      'base64 with a stray character',
      () => aesGcm({ keys: { k: `${b64.slice(0, 20)}*${b64.slice(21)}` }, current: 'k' }),
      /not 32 bytes/,
    ],
    [
      'mixed base64 alphabets',
      () => aesGcm({ keys: { k: `+_${b64.slice(2)}` }, current: 'k' }),
      /not 32 bytes/,
    ],
    ['non-canonical base64', () => aesGcm({ keys: { k: nonCanonical(b64) }, current: 'k' }), /not 32 bytes/],
    [
      'a number key',
      () => aesGcm({ keys: { k: 42 as never }, current: 'k' }),
      /must be bytes or a string.*got 42/,
    ],
    ['a null key', () => aesGcm({ keys: { k: null as never }, current: 'k' }), /must be bytes or a string/],
    ['an empty id', () => aesGcm({ keys: { '': raw }, current: '' }), /key id must be/],
    ['an id with a space', () => aesGcm({ keys: { 'k 1': raw }, current: 'k 1' }), /key id must be/],
    [
      'a 65-character id',
      () => aesGcm({ keys: { ['k'.repeat(65)]: raw }, current: 'k'.repeat(65) }),
      /key id must be/,
    ],
    ['a non-ASCII id', () => aesGcm({ keys: { ké: raw }, current: 'ké' }), /key id must be/],
    [
      'a non-string Map id',
      () => aesGcm({ keys: new Map([[1 as never, raw]]), current: '1' }),
      /key id must be/,
    ],
    [
      'acceptUnencrypted not boolean',
      () => aesGcm({ keys: { k: raw }, current: 'k', acceptUnencrypted: 1 as never }),
      /acceptUnencrypted must be a boolean/,
    ],
  ])('%s is E_OPTION', (_name, fn, message) => {
    expect(optionError(fn)).toMatch(message)
  })

  it('never prints key material in its errors', () => {
    const hex = randomBytes(31).toString('hex')
    const message = optionError(() => aesGcm({ keys: { k: hex }, current: 'k' }))
    expect(message).not.toContain(hex)
    expect(message).not.toContain(hex.slice(0, 16))
  })
})

/** The same 32 bytes written with non-zero unused bits in the last base64 character. */
function nonCanonical(b64: string): string {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/'
  const last = alphabet.indexOf(b64[42] as string)
  return `${b64.slice(0, 42)}${alphabet[last ^ 1]}=`
}
