import { execFileSync } from 'node:child_process'
import { randomInt } from 'node:crypto'
import { tmpdir } from 'node:os'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import { phpCodec } from '../src/index.js'
import { reachPhp } from './_php.js'

const php = reachPhp()
const script = fileURLToPath(new URL('./php/reencode.php', import.meta.url))

/** PHP's session_decode + session_encode of each session string, with `handler`. */
function reencode(handler: string, sessions: Buffer[]): (Buffer | null)[] {
  const out = execFileSync(
    'php',
    ['-d', `session.serialize_handler=${handler}`, '-d', `session.save_path=${tmpdir()}`, script],
    {
      input: `${sessions.map((s) => s.toString('base64')).join('\n')}\n`,
      encoding: 'utf8',
      maxBuffer: 64 << 20,
    },
  )
  return out
    .trim()
    .split('\n')
    .map((l) => (l === '!' ? null : Buffer.from(l, 'base64')))
}

const WORDS = ['', 'a', 'é', 'naïve €', '😀', 'x|y', 'quote"s', 'semi;colon', '{brace}', '\n\t', '0', '12']
function value(depth: number): unknown {
  switch (randomInt(depth > 3 ? 6 : 8)) {
    case 0:
      return null
    case 1:
      return randomInt(2) === 1
    case 2:
      return randomInt(-1e9, 1e9)
    case 3:
      return [0.1, -2.5, 1e-5, 2.71, 1234.5678, -0.001][randomInt(6)]
    case 4:
    case 5:
      return WORDS[randomInt(WORDS.length)]
    case 6:
      return Array.from({ length: randomInt(4) }, () => value(depth + 1))
    default: {
      const o: Record<string, unknown> = {}
      for (let i = randomInt(4); i > 0; i--) o[`k${WORDS[randomInt(WORDS.length)]}${i}`] = value(depth + 1)
      return o
    }
  }
}

const emptyAsList = (v: unknown): unknown =>
  Array.isArray(v)
    ? v.map(emptyAsList)
    : typeof v === 'object' && v !== null
      ? Object.keys(v).length === 0
        ? []
        : Object.fromEntries(Object.entries(v).map(([k, x]) => [k, emptyAsList(x)]))
      : v

describe.skipIf(php.skip)("the codecs against PHP's own session_decode/session_encode", () => {
  for (const handler of ['php', 'php_serialize'] as const) {
    it(`${handler}: 300 random sessions Node writes, PHP reads and writes back byte for byte`, () => {
      const codec = phpCodec({ serializer: handler, urlencode: false })
      const data = Array.from({ length: 300 }, () => {
        const d: Record<string, unknown> = {}
        for (let i = randomInt(1, 6); i > 0; i--) d[`var_${i}${WORDS[randomInt(3)]}`] = value(0)
        return d
      })
      const encoded = data.map((d) => codec.encodeSession(d))
      const back = reencode(handler, encoded)
      for (let i = 0; i < data.length; i++) {
        expect(back[i]?.toString('latin1')).toBe(encoded[i]?.toString('latin1'))
        // PHP has one array type: an empty object comes back as an empty list.
        expect(codec.decodeSession(back[i] as Buffer)).toEqual(emptyAsList(data[i]))
      }
    })
  }
})
