/**
 * Bad input: fuzzed cookie headers against a real HTTP server, fuzzed session keys straight into
 * the stores (memory, PostgreSQL, MariaDB), and tampered stored payloads loaded through the
 * manager. Nothing may throw out of the middleware (a 400 is fine), no fuzzed input may reach
 * another session's data, and Object.prototype must come out of every run unchanged.
 */
import { createHmac, randomBytes } from 'node:crypto'
import { connect } from 'node:net'
import {
  createSessions,
  generateId,
  isSessionError,
  MemoryStore,
  type SessionStore,
  type Sessions,
} from '@sessile/core'
import { uniqueTable } from '@sessile/drizzle/testing'
import { aesGcm } from '@sessile/filters'
import fc from 'fast-check'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { Client, listen, type RunningApp, reliabilityApp } from '../src/app.js'
import { databases } from '../src/databases.js'
import { figure } from '../src/figures.js'

const SECTION = 'Bad input'
const RUNS = 10_000
const SQL_HTTP_RUNS = 1_000

// Key fuzzing uses 3 connections per store; the PostgreSQL HTTP run asks for 4.
const [pgDb, mysqlDb] = await databases(3)

// ---------------------------------------------------------------------------------------------
// Object.prototype, before and after

function protoSnapshot(): Map<string | symbol, unknown> {
  const snap = new Map<string | symbol, unknown>()
  for (const k of Reflect.ownKeys(Object.prototype)) {
    const d = Object.getOwnPropertyDescriptor(Object.prototype, k)
    snap.set(k, d?.value ?? d?.get)
  }
  return snap
}
const PROTO_BEFORE = protoSnapshot()

/** Keys of Object.prototype added, removed or changed since the file started. */
function protoChanges(): number {
  const now = protoSnapshot()
  let changes = 0
  for (const [k, v] of now) if (!PROTO_BEFORE.has(k) || PROTO_BEFORE.get(k) !== v) changes++
  for (const k of PROTO_BEFORE.keys()) if (!now.has(k)) changes++
  // A polluted prototype shows up on every fresh object.
  const probe: Record<string, unknown> = {}
  for (const name of ['polluted', 'isAdmin', 'user', 'secret', 'x']) if (name in probe) changes++
  return changes
}

const n = (v: number): string => v.toLocaleString('en-US')

// ---------------------------------------------------------------------------------------------
// 1. Cookie headers over real HTTP

// The cookie signing secret of reliabilityApp (src/app.ts); express-session signs `s:<id>.<mac>`.
const COOKIE_SECRET = 'a reliability test secret, long enough to sign cookies'
const COOKIE_NAME = 'connect.sid'
const sign = (id: string, secret = COOKIE_SECRET): string =>
  `s:${id}.${createHmac('sha256', secret).update(id).digest('base64').replace(/=+$/, '')}`

/** A JS string as the bytes a client would send (UTF-8), one latin1 char per byte. */
const wire = (s: string): string => Buffer.from(s, 'utf8').toString('latin1')

/**
 * Which value of `connect.sid` the server sees: RFC 6265 pairs split on `;`, names and values
 * trimmed of spaces and tabs, the first pair of a name wins, optional quotes, %-decoding when it
 * decodes. Written here from the spec, not imported, so the leak check does not trust the parser
 * under test.
 */
function sidOf(header: string): string | undefined {
  for (const part of header.split(';')) {
    const eq = part.indexOf('=')
    if (eq === -1) continue
    if (part.slice(0, eq).replace(/^[ \t]+|[ \t]+$/g, '') !== COOKIE_NAME) continue
    let value = part.slice(eq + 1).replace(/^[ \t]+|[ \t]+$/g, '')
    if (value.length >= 2 && value.startsWith('"') && value.endsWith('"')) value = value.slice(1, -1)
    if (!value.includes('%')) return value
    try {
      return decodeURIComponent(value)
    } catch {
      return value
    }
  }
  return undefined
}

interface Reply {
  status: number
  body: string
}

/**
 * One request with raw header bytes on its own connection (node:http and fetch refuse some of
 * the bytes a hostile client can send). Resolves to null when the server answers nothing.
 */
function rawRequest(base: string, path: string, cookieLines: readonly string[]): Promise<Reply | null> {
  const { hostname, port } = new URL(base)
  const head =
    `GET ${path} HTTP/1.1\r\nHost: ${hostname}:${port}\r\n` +
    cookieLines.map((line) => `Cookie: ${line}\r\n`).join('') +
    'Connection: close\r\n\r\n'
  return new Promise((resolve) => {
    const chunks: Buffer[] = []
    const socket = connect(Number(port), hostname)
    const done = () => {
      clearTimeout(timer)
      const text = Buffer.concat(chunks).toString('utf8')
      const m = /^HTTP\/1\.1 (\d{3})/.exec(text)
      const at = text.indexOf('\r\n\r\n')
      resolve(m ? { status: Number(m[1]), body: at === -1 ? '' : text.slice(at + 4) } : null)
    }
    const timer = setTimeout(() => socket.destroy(), 15_000)
    socket.on('data', (c: Buffer) => chunks.push(c))
    socket.on('error', () => {}) // A reset after the answer still counts the answer; none counts null.
    socket.on('close', done)
    socket.write(Buffer.from(head, 'latin1'))
  })
}

interface Victim {
  id: string
  /** The cookie value as the server set it (`s%3A…`). */
  raw: string
  /** The signed value express-session unsigns (`s:<id>.<mac>`). */
  signed: string
  secret: string
  user: string
}

async function makeVictim(base: string): Promise<Victim> {
  const c = new Client(base)
  const user = `victim-${randomBytes(8).toString('hex')}`
  const secret = `secret-${randomBytes(16).toString('hex')}`
  expect((await c.call('POST', `/login?user=${user}`)).status).toBe(200)
  expect((await c.call('POST', `/set?name=secret&value=${secret}`)).status).toBe(200)
  const raw = (c.cookie ?? '').slice(COOKIE_NAME.length + 1)
  const signed = decodeURIComponent(raw)
  const id = signed.slice(2, signed.lastIndexOf('.'))
  expect(signed).toBe(sign(id))
  return { id, raw, signed, secret, user }
}

const B64URL = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_'
// Bytes fetch lets through in a header value (it refuses only NUL, CR and LF), as latin1 chars.
const CONTROL = [...Array(32).keys(), 127]
  .filter((c) => c !== 0 && c !== 10 && c !== 13)
  .map((c) => String.fromCharCode(c))
const UNICODE = [
  '\u00a0', // NBSP
  '\u2007', // figure space
  '\u202f', // narrow NBSP
  '\u200b', // zero width space
  '\u200d', // zero width joiner
  '\ufeff', // BOM
  '\u202e', // right-to-left override
  '\u0301', // combining acute
  'é',
  'e\u0301',
  'ß',
  'İ',
  'ﬁ',
  'Ａ', // fullwidth A
  'а', // Cyrillic a
  '𝐀',
  '😀',
  '\ud800', // a lone surrogate (sent as EF BF BD)
  '\u2028',
]
const BAD_PERCENT = [
  '%',
  '%%',
  '%zz',
  '%G0',
  '%E0%A4%A',
  '%C3%28',
  '%FF',
  '%ED%A0%80',
  '%00',
  '%0D%0A',
  '%u0041',
  '%3',
  '%3A',
  '%2',
  '%25',
  '%C0%AF',
]
const PROTO_WORDS = [
  '__proto__',
  'constructor',
  'prototype',
  'hasOwnProperty',
  'toString',
  'valueOf',
  '__defineGetter__',
  'isPrototypeOf',
]
const PROTO_VALUES = [
  '__proto__',
  'constructor',
  '{"polluted":1}',
  '{"__proto__":{"polluted":1}}',
  'toString',
  '[object Object]',
  's:__proto__',
  'null',
  'undefined',
  '',
]

const pick = <T>(xs: readonly T[]) => fc.constantFrom(...xs)
const b64url = (min: number, max: number) =>
  fc.array(pick([...B64URL]), { minLength: min, maxLength: max }).map((cs) => cs.join(''))

/** Insert, replace or delete one character at a position. */
function mutateAt(s: string, how: 'insert' | 'replace' | 'delete', at: number, ch: string): string {
  const i = at % (s.length + (how === 'insert' ? 1 : 0))
  if (how === 'insert') return s.slice(0, i) + ch + s.slice(i)
  if (how === 'replace') return s.slice(0, i) + ch + s.slice(i + 1)
  return s.slice(0, i) + s.slice(i + 1)
}

const kv = (kind: string, value: string): [string, string] => [kind, value]

/** encodeURIComponent, except that a lone surrogate (which it refuses) goes out as it is. */
const encodeLoose = (s: string): string => {
  try {
    return encodeURIComponent(s)
  } catch {
    return s
  }
}

const flipCase = (ch: string): string => (ch === ch.toUpperCase() ? ch.toLowerCase() : ch.toUpperCase())

interface CookieCase {
  kind: string
  /** Cookie header lines, as latin1 wire strings (one char per byte). */
  lines: string[]
  path: '/data' | '/count'
}

function cookieCases(v: Victim): fc.Arbitrary<CookieCase> {
  const anyChar = fc.oneof(
    pick([...B64URL, '.', ':', '%', '=', ';', ' ', '"', ',', '\\']),
    pick(UNICODE),
    pick(CONTROL),
  )
  const value: fc.Arbitrary<[string, string]> = fc.oneof(
    // bad percent-escapes, alone or around a real id
    fc
      .tuple(
        fc.array(fc.oneof(pick(BAD_PERCENT), b64url(0, 6)), { minLength: 1, maxLength: 8 }),
        fc.boolean(),
      )
      .map(([parts, withId]) => kv('bad-percent', (withId ? `s%3A${v.id}` : '') + parts.join(''))),
    // __proto__ / constructor as values
    pick(PROTO_VALUES).map((s) => kv('proto-value', s)),
    // NBSP and other unicode, inserted into the victim's value or a random one (sent as UTF-8)
    fc
      .tuple(fc.boolean(), pick(UNICODE), fc.nat(), b64url(0, 50))
      .map(([intoVictim, u, at, rnd]) =>
        kv('unicode', wire(mutateAt(intoVictim ? v.raw : rnd, 'insert', at, u))),
      ),
    // raw latin1 bytes (a NBSP byte 0xA0 without UTF-8), and control characters fetch allows
    fc
      .tuple(pick([...CONTROL, '\u00a0', '\u00ff', '\u0085']), fc.nat(), fc.boolean())
      .map(([c, at, intoVictim]) => kv('control', mutateAt(intoVictim ? v.raw : v.id, 'insert', at, c))),
    // 8 KB values
    fc
      .tuple(b64url(1, 64), fc.integer({ min: 8000, max: 8400 }), fc.boolean())
      .map(([chunk, size, signed]) => {
        const big = chunk.repeat(Math.ceil(size / chunk.length)).slice(0, size)
        return ['8KB', signed ? encodeURIComponent(sign(big)) : big] as [string, string]
      }),
    // well-formed-looking ids of the wrong length, correctly signed (they reach the store)
    b64url(1, 96)
      .filter((id) => id.length !== v.id.length)
      .map((id) => kv('wrong-length', encodeURIComponent(sign(id)))),
    // right length, unknown id, correctly signed
    b64url(v.id.length, v.id.length).map((id) => kv('unknown-id', encodeURIComponent(sign(id)))),
    // the victim's id with a wrong signature
    fc
      .oneof(
        fc.constant(sign(v.id, 'another secret that is long enough to sign')),
        fc.constant(`s:${v.id}`),
        fc.constant(`s:${v.id}.`),
        fc.constant(v.id),
        fc.constant(`s:${v.id}.${sign(v.id).slice(-43, -1)}`),
        b64url(0, 60).map((sig) => `s:${v.id}.${sig}`),
        fc.nat().map((at) => {
          const sig = v.signed.slice(v.signed.lastIndexOf('.') + 1)
          return `s:${v.id}.${mutateAt(sig, 'replace', at, 'A')}`
        }),
      )
      .chain((s) =>
        fc.boolean().map((enc) => ['wrong-signature', enc ? encodeURIComponent(s) : s] as [string, string]),
      ),
    // the victim's real cookie value, one character changed
    fc
      .tuple(pick(['insert', 'replace', 'delete'] as const), fc.nat(), anyChar)
      .map(([how, at, ch]) => kv('victim-mutated', wire(mutateAt(v.raw, how, at, ch)))),
    // the victim's id, one character changed (case flips included), then correctly signed
    fc
      .tuple(pick(['insert', 'replace', 'delete', 'case'] as const), fc.nat(), anyChar)
      .map(([how, at, ch]) => {
        const i = at % v.id.length
        const id =
          how === 'case'
            ? v.id.slice(0, i) + flipCase(v.id[i] ?? '') + v.id.slice(i + 1)
            : mutateAt(v.id, how, at, ch)
        return ['victim-id-mutated-signed', wire(encodeLoose(sign(id)))] as [string, string]
      }),
    // the victim's exact cookie, now and then, so the run proves the right cookie does get its data
    fc.constantFrom(['victim', v.raw] as [string, string], ['victim', v.signed] as [string, string]),
  )
  const name = fc.oneof(
    { weight: 6, arbitrary: fc.constant(COOKIE_NAME) },
    { weight: 1, arbitrary: pick(PROTO_WORDS) },
    {
      weight: 1,
      arbitrary: fc
        .tuple(pick(UNICODE), fc.nat())
        .map(([u, at]) => wire(mutateAt(COOKIE_NAME, 'insert', at, u))),
    },
    { weight: 1, arbitrary: fc.constant(` ${COOKIE_NAME}\t`) },
  )
  const pair = fc.tuple(name, value).map(([nm, [kind, val]]) => ({ kind, text: `${nm}=${val}` }))
  const extra = pick([
    'theme=dark',
    '__proto__=x',
    'constructor=y',
    'a',
    '=',
    ';',
    '',
    'x=%',
    `${COOKIE_NAME}=`,
  ])
  return fc
    .tuple(
      fc.array(
        fc.oneof(
          { weight: 4, arbitrary: pair },
          { weight: 1, arbitrary: extra.map((text) => ({ kind: '', text })) },
        ),
        {
          minLength: 1,
          maxLength: 4,
        },
      ),
      pick(['; ', ';', ' ; ', ';\t']),
      fc.boolean(),
      pick(['/data', '/count'] as const),
    )
    .map(([pairs, sep, split, path]) => {
      const kinds = pairs.map((p) => p.kind).filter((k) => k !== '')
      const dup = pairs.filter((p) => p.text.startsWith(`${COOKIE_NAME}=`)).length > 1
      const kind = `${dup ? 'duplicate-name+' : ''}${kinds[0] ?? 'junk'}`
      // Several Cookie header lines (the server joins them with '; ') or one.
      const lines =
        split && pairs.length > 1 ? pairs.map((p) => p.text) : [pairs.map((p) => p.text).join(sep)]
      return { kind, lines, path }
    })
}

interface CookieStats {
  cases: number
  thrown: number
  leaked: number
  polluted: number
  rejected: number
  victimServed: number
  victimCases: number
  examples: string[]
  byKind: Map<string, number>
}

async function fuzzCookies(app: RunningApp, v: Victim, runs: number): Promise<CookieStats> {
  const s: CookieStats = {
    cases: 0,
    thrown: 0,
    leaked: 0,
    polluted: 0,
    rejected: 0,
    victimServed: 0,
    victimCases: 0,
    examples: [],
    byKind: new Map(),
  }
  const note = (what: string, c: CookieCase, r: Reply | null) => {
    if (s.examples.length < 5)
      s.examples.push(
        `${what}: ${c.kind} ${c.path} ${JSON.stringify(c.lines).slice(0, 300)} -> ${r ? `${r.status} ${r.body.slice(0, 200)}` : 'no answer'}`,
      )
  }
  await fc.assert(
    fc.asyncProperty(cookieCases(v), async (c) => {
      s.cases++
      s.byKind.set(c.kind, (s.byKind.get(c.kind) ?? 0) + 1)
      const legit = sidOf(c.lines.join('; ')) === v.signed
      const r = await rawRequest(app.url, c.path, c.lines)
      if (!r || r.status >= 500) {
        s.thrown++
        note('thrown', c, r)
        return
      }
      if (r.status !== 200) {
        s.rejected++
        return
      }
      const hasVictim = r.body.includes(v.secret) || r.body.includes(v.user)
      if (legit) {
        // (Counted among 200s only: an exact cookie beside a header the server refuses gets 4xx.)
        s.victimCases++
        if (hasVictim) s.victimServed++
        return
      }
      if (hasVictim) {
        s.leaked++
        note('leaked', c, r)
      }
      // A fuzzed cookie gets a fresh, empty session: exactly these replies, nothing polluted in.
      const want = c.path === '/data' ? '{"data":{}}' : '{"count":1,"user":null}'
      if (r.body !== want) {
        s.polluted++
        note('unexpected reply', c, r)
      }
    }),
    { numRuns: runs },
  )
  return s
}

function cookieFigures(s: CookieStats, where: string, runs: number, prototype: number): void {
  const label = `${n(s.cases)} fuzzed cookie headers, ${where}`
  figure({
    section: SECTION,
    name: `cookie cases run (${where})`,
    value: s.cases,
    target: `≥ ${n(runs)}`,
  })
  figure({
    section: SECTION,
    name: `thrown errors out of the middleware (5xx or no answer; ${label})`,
    value: s.thrown,
    target: '0',
  })
  figure({ section: SECTION, name: `sessions leaked across keys (${label})`, value: s.leaked, target: '0' })
  figure({
    section: SECTION,
    name: `prototype changes (Object.prototype, polluted replies; ${label})`,
    value: prototype + s.polluted,
    target: '0',
  })
  figure({ section: SECTION, name: `answered 4xx (${label})`, value: s.rejected })
  figure({
    section: SECTION,
    name: `exact victim cookies served the victim's session (${where})`,
    value: `${n(s.victimServed)} of ${n(s.victimCases)}`,
    target: 'all',
  })
  if (s.examples.length > 0) console.log(`[bad-input] ${where} examples:\n${s.examples.join('\n')}`)
  console.log(`[bad-input] ${where} cases by kind: ${JSON.stringify(Object.fromEntries(s.byKind))}`)
}

function expectClean(s: CookieStats, runs: number, prototype: number): void {
  expect(s.cases).toBeGreaterThanOrEqual(runs)
  expect(s.examples).toEqual([])
  expect(s.thrown).toBe(0)
  expect(s.leaked).toBe(0)
  expect(s.polluted).toBe(0)
  expect(prototype).toBe(0)
  // The check has teeth: the victim's own cookie, when generated, always got the victim's data.
  expect(s.victimCases).toBeGreaterThan(0)
  expect(s.victimServed).toBe(s.victimCases)
}

describe('cookie headers over HTTP', () => {
  it(`${n(RUNS)} fuzzed cookie headers on a memory store: no 5xx, no leak, no pollution`, async () => {
    const sessions = createSessions({ store: new MemoryStore() })
    const app = await listen(reliabilityApp(sessions))
    try {
      const v = await makeVictim(app.url)
      const s = await fuzzCookies(app, v, RUNS)
      const prototype = protoChanges()
      cookieFigures(s, 'memory store', RUNS, prototype)
      expectClean(s, RUNS, prototype)
      // The victim's session is still there, untouched by the run.
      const after = await rawRequest(app.url, '/data', [`${COOKIE_NAME}=${v.raw}`])
      expect(after?.body).toContain(v.secret)
    } finally {
      await app.close()
    }
  })

  describe.skipIf(pgDb.skip)('PostgreSQL', () => {
    const table = uniqueTable('badin')
    let store: SessionStore | undefined
    afterAll(async () => {
      await store?.close()
      await pgDb.drop(table)
    })

    it(`${n(SQL_HTTP_RUNS)} fuzzed cookie headers on PostgreSQL: no 5xx, no leak, no pollution`, async () => {
      store = pgDb.store(table, 4)
      const app = await listen(reliabilityApp(createSessions({ store })))
      try {
        const v = await makeVictim(app.url)
        const s = await fuzzCookies(app, v, SQL_HTTP_RUNS)
        const prototype = protoChanges()
        cookieFigures(s, 'PostgreSQL', SQL_HTTP_RUNS, prototype)
        expectClean(s, SQL_HTTP_RUNS, prototype)
        const after = await rawRequest(app.url, '/data', [`${COOKIE_NAME}=${v.raw}`])
        expect(after?.body).toContain(v.secret)
      } finally {
        await app.close()
      }
    })
  })
})

// ---------------------------------------------------------------------------------------------
// 2. Session keys straight into the stores

const TOKEN = 'bad-input-token'
const TTL = 600_000

interface KeyStats {
  cases: number
  thrown: number
  leaked: number
  invalid: number
  legit: number
  examples: string[]
}

/** Rows the fuzzer aims near: a real id, unicode keys (NFC), a key with a U+FFFD in it. */
function realKeys(): string[] {
  const id = generateId()
  // Case variants need letters of both cases.
  const withCase = /[a-z]/.test(id) && /[A-Z]/.test(id) ? id : `aZ${id.slice(2)}`
  return [
    withCase,
    `café-Straße-${generateId(16)}`.normalize('NFC'),
    `Å-ﬁ-İ-${generateId(16)}`,
    `\ufffd-${generateId(16)}`,
    `x-${generateId(16)}`,
  ]
}

function keyCases(real: readonly string[]): fc.Arbitrary<[string, string]> {
  const target = pick(real)
  const ch = fc.oneof(
    pick([
      '\u0000',
      ' ',
      '\t',
      '\n',
      '%',
      '_',
      '\\',
      "'",
      '"',
      '\u00a0',
      '\u200b',
      '\ufeff',
      'é',
      'e\u0301',
      '😀',
      '\ud800',
      '\udfff',
      '\ufffd',
      'İ',
      'ı',
    ]),
    fc.string({ unit: 'binary', minLength: 1, maxLength: 1 }),
  )
  return fc.oneof(
    // case variants
    fc.tuple(target, fc.array(fc.nat(), { minLength: 1, maxLength: 8 })).map(([k, ats]) => {
      const cs = [...k]
      for (const at of ats) {
        const i = at % cs.length
        cs[i] = flipCase(cs[i] ?? '')
      }
      return ['case', cs.join('')] as [string, string]
    }),
    target.map((k) => ['case', k.toUpperCase()] as [string, string]),
    target.map((k) => ['case', k.toLowerCase()] as [string, string]),
    // trailing and leading spaces
    fc
      .tuple(target, pick([' ', '  ', '\t', '\u00a0', '\u3000', '\n', ' \u0000']), fc.boolean())
      .map(([k, sp, lead]) => ['spaces', lead ? sp + k : k + sp] as [string, string]),
    // similar unicode: other normal forms, accents stripped, homoglyphs
    fc
      .tuple(target, pick(['NFD', 'NFKC', 'NFKD'] as const))
      .map(([k, f]) => ['unicode-normal-form', k.normalize(f)] as [string, string]),
    target.map(
      (k) =>
        [
          'unicode-similar',
          k
            .normalize('NFD')
            .replace(/[\u0300-\u036f]/g, '')
            .replace(/ß/g, 'ss')
            .replace(/a/g, 'а'),
        ] as [string, string],
    ),
    target.map((k) => ['unicode-similar', k.replace(/\ufffd/g, '\ud800')] as [string, string]),
    // wrong charset: one char replaced or inserted
    fc
      .tuple(target, pick(['insert', 'replace', 'delete'] as const), fc.nat(), ch)
      .map(([k, how, at, c]) => ['charset', mutateAt(k, how, at, c)] as [string, string]),
    // overlong: more than 255 UTF-8 bytes (some of them at most 255 UTF-16 units)
    fc
      .tuple(target, pick(['a', 'é', '€', '😀', ' ']), fc.integer({ min: 1, max: 300 }))
      .map(
        ([k, pad, extra]) =>
          [
            'overlong',
            k + pad.repeat(Math.ceil((256 - Buffer.byteLength(k)) / Buffer.byteLength(pad)) + extra),
          ] as [string, string],
      ),
    // prefixes and extensions (LIKE-style near misses), SQL wildcards and quotes
    fc.tuple(target, fc.nat()).map(([k, at]) => ['prefix', k.slice(0, at % k.length)] as [string, string]),
    fc
      .tuple(target, pick(['%', '_', '*', "'", "' OR '1'='1", '\\']))
      .map(([k, w]) => ['wildcard', k.slice(0, -1) + w] as [string, string]),
    pick(['%', '_', '*', "' OR '1'='1", '" OR ""="', '\\', '', '\u0000']).map(
      (k) => ['wildcard', k] as [string, string],
    ),
    // anything at all
    fc.string({ unit: 'grapheme', maxLength: 60 }).map((k) => ['random', k] as [string, string]),
    fc.string({ unit: 'binary', maxLength: 300 }).map((k) => ['random', k] as [string, string]),
    // the real keys themselves, now and then, so the check has teeth
    target.map((k) => ['real', k] as [string, string]),
  )
}

async function fuzzKeys(store: SessionStore, runs: number): Promise<KeyStats> {
  const real = realKeys()
  const dataOf = (k: string) => Buffer.from(JSON.stringify({ owner: k }))
  const put = (k: string) => store.write({ key: k, data: dataOf(k), ref: null, mode: 'upsert', ttl: TTL })
  for (const k of real) expect((await put(k)).ok).toBe(true)
  const s: KeyStats = { cases: 0, thrown: 0, leaked: 0, invalid: 0, legit: 0, examples: [] }
  const note = (what: string, kind: string, key: string, detail: unknown) => {
    if (s.examples.length < 5)
      s.examples.push(`${what}: ${kind} ${JSON.stringify(key)} -> ${String(detail).slice(0, 200)}`)
  }
  // Every call either answers or throws E_INVALID; any other error counts as thrown.
  const attempt = async <R>(kind: string, key: string, fn: () => Promise<R>): Promise<{ r: R } | null> => {
    try {
      return { r: await fn() }
    } catch (e) {
      if (isSessionError(e) && e.code === 'E_INVALID') s.invalid++
      else {
        s.thrown++
        note('thrown', kind, key, e)
      }
      return null
    }
  }
  await fc.assert(
    fc.asyncProperty(keyCases(real), async ([kind, key]) => {
      s.cases++
      const legit = real.includes(key)
      if (legit) s.legit++
      const read = () => attempt(kind, key, () => store.read(key))
      const lease = () =>
        attempt(kind, key, () => store.lease?.({ key, token: TOKEN, ttl: TTL }) ?? Promise.resolve(null))
      const destroy = () => attempt(kind, key, () => store.destroy(key))
      // A real key in order (its destroy would race its read); any other key all three at once,
      // which keeps 10,000 cases short on SQL and lets no wrong match hide behind another call.
      const [r, leased, destroyed] = legit
        ? [await read(), await lease(), await destroy()]
        : await Promise.all([read(), lease(), destroy()])
      if (legit) {
        // The real key must find its own row (and nothing else).
        const ok =
          r?.r?.key === key &&
          Buffer.from(r.r.data).equals(dataOf(key)) &&
          (leased?.r === null || (leased?.r?.ok === true && leased.r.row.key === key)) &&
          destroyed?.r?.key === key
        if (!ok) {
          s.leaked++
          note('real key did not find its row', kind, key, JSON.stringify([r?.r?.key, destroyed?.r?.key]))
        }
        expect((await put(key)).ok).toBe(true)
        return
      }
      // Anything else finds nothing: a row here is another session's row.
      if (r?.r || leased?.r?.ok || destroyed?.r) {
        s.leaked++
        const other = r?.r?.key ?? destroyed?.r?.key ?? (leased?.r?.ok ? leased.r.row.key : '')
        note('leaked', kind, key, `row ${JSON.stringify(other)}`)
        // Put back whatever a wrong destroy removed, so later cases still aim at live rows.
        for (const k of real) if (!(await store.read(k))) await put(k)
      }
    }),
    { numRuns: runs },
  )
  // The real rows are all still there, with their own data.
  for (const k of real) {
    const row = await store.read(k)
    if (!row || !Buffer.from(row.data).equals(dataOf(k))) s.leaked++
  }
  return s
}

function keyFigures(s: KeyStats, where: string, prototype: number): void {
  const label = `${n(s.cases)} fuzzed keys, ${where}`
  figure({
    section: SECTION,
    name: `store key cases run (${where}; read + lease + destroy each)`,
    value: s.cases,
    target: `≥ ${n(RUNS)}`,
  })
  figure({
    section: SECTION,
    name: `thrown errors other than E_INVALID (${label})`,
    value: s.thrown,
    target: '0',
  })
  figure({ section: SECTION, name: `sessions leaked across keys (${label})`, value: s.leaked, target: '0' })
  figure({ section: SECTION, name: `prototype changes (${label})`, value: prototype, target: '0' })
  figure({ section: SECTION, name: `calls refused with E_INVALID (${label})`, value: s.invalid })
  if (s.examples.length > 0) console.log(`[bad-input] ${where} examples:\n${s.examples.join('\n')}`)
}

function expectKeysClean(s: KeyStats, runs: number, prototype: number): void {
  expect(s.examples).toEqual([])
  expect(s.cases).toBeGreaterThanOrEqual(runs)
  expect(s.thrown).toBe(0)
  expect(s.leaked).toBe(0)
  expect(prototype).toBe(0)
  expect(s.legit).toBeGreaterThan(0)
  expect(s.invalid).toBeGreaterThan(0)
}

describe('session keys straight into the stores', () => {
  it(`${n(RUNS)} fuzzed keys on MemoryStore`, async () => {
    const store = new MemoryStore()
    const s = await fuzzKeys(store, RUNS)
    const prototype = protoChanges()
    keyFigures(s, 'memory', prototype)
    expectKeysClean(s, RUNS, prototype)
  })

  // The two databases run side by side: each loop waits on its own server, not on the CPU.
  describe.concurrent('SQL stores', () => {
    const stores: SessionStore[] = []
    const tables = new Map([pgDb, mysqlDb].map((db) => [db, uniqueTable('badin')]))
    afterAll(async () => {
      for (const store of stores) await store.close()
      for (const [db, table] of tables) if (!db.skip) await db.drop(table)
    })

    for (const [db, table] of tables) {
      it.skipIf(db.skip)(`${n(RUNS)} fuzzed keys on the ${db.name} store`, async () => {
        const store = db.store(table)
        stores.push(store)
        const s = await fuzzKeys(store, RUNS)
        const prototype = protoChanges()
        keyFigures(s, db.name, prototype)
        expectKeysClean(s, RUNS, prototype)
      })
    }
  })
})

// ---------------------------------------------------------------------------------------------
// 3. Stored payloads, written straight into the store, loaded through the manager

interface PayloadStats {
  cases: number
  thrown: number
  leaked: number
  /** Unencrypted only: A's data moved into B's row and read back as B's. */
  moved: number
  /** Encrypted only: a tampered payload that loaded as a session (every case here is tampered). */
  forged: number
  swaps: number
  fresh: number
  examples: string[]
  byKind: Map<string, number>
}

const JSON_BOMBS = [
  '{"__proto__":{"polluted":1}}',
  '{"constructor":{"prototype":{"polluted":1}}}',
  '{"a":1,"__proto__":{"isAdmin":true}}',
  '{"__proto__":null}',
  '[]',
  'null',
  '"x"',
  '1',
  '{"a":',
  '{}',
  '{"user":"\ud800"}',
]

async function fuzzPayloads(sessions: Sessions, encrypted: boolean, runs: number): Promise<PayloadStats> {
  const store = sessions.store
  // Two real sessions, A (the victim) and B, stored through the manager as an app would.
  const make = async (secret: string) => {
    const s = await sessions.load(undefined)
    s.data = { user: `user-${secret}`, secret, nested: { list: [1, 2, 3], when: 'now' } }
    const r = await sessions.commit(s)
    expect(r.write).toBe('insert')
    const key = sessions.keyOf(s.id)
    const row = await store.read(key)
    if (!row) throw new Error('row not stored')
    return { id: s.id, key, secret, bytes: Buffer.from(row.data) }
  }
  const a = await make(`A-${randomBytes(12).toString('hex')}`)
  const b = await make(`B-${randomBytes(12).toString('hex')}`)
  const restore = async () => {
    for (const x of [a, b])
      await store.write({ key: x.key, data: x.bytes, ref: null, mode: 'upsert', ttl: TTL })
  }
  const s: PayloadStats = {
    cases: 0,
    thrown: 0,
    leaked: 0,
    moved: 0,
    forged: 0,
    swaps: 0,
    fresh: 0,
    examples: [],
    byKind: new Map(),
  }
  const note = (what: string, kind: string, detail: unknown) => {
    if (s.examples.length < 5) s.examples.push(`${what}: ${kind} -> ${String(detail).slice(0, 300)}`)
  }
  const payload = fc.oneof(
    fc.uint8Array({ maxLength: 600 }).map((bytes) => ({ kind: 'random-bytes', into: b, bytes })),
    // random bytes behind a valid envelope header (no filter), so they reach JSON.parse
    fc.uint8Array({ maxLength: 300 }).map((bytes) => ({
      kind: 'random-body',
      into: b,
      bytes: Buffer.concat([Buffer.of(0x53, 1, 0), bytes]),
    })),
    fc.tuple(pick(JSON_BOMBS), fc.boolean()).map(([json, asB]) => ({
      kind: 'json',
      into: asB ? b : a,
      bytes: Buffer.concat([Buffer.of(0x53, 1, 0), Buffer.from(json)]),
    })),
    fc.tuple(fc.boolean(), fc.nat()).map(([ofA, at]) => {
      const x = ofA ? a : b
      return { kind: 'truncated', into: x, bytes: x.bytes.subarray(0, at % x.bytes.length) }
    }),
    fc.tuple(fc.boolean(), fc.nat(), fc.integer({ min: 1, max: 255 })).map(([ofA, at, mask]) => {
      const x = ofA ? a : b
      const bytes = Buffer.from(x.bytes)
      const i = at % bytes.length
      bytes[i] = (bytes[i] as number) ^ mask
      return { kind: 'bit-flip', into: x, bytes }
    }),
    fc.boolean().map((aIntoB) => ({ kind: 'swapped', into: aIntoB ? b : a, bytes: (aIntoB ? a : b).bytes })),
  )
  await fc.assert(
    fc.asyncProperty(payload, async ({ kind, into, bytes }) => {
      s.cases++
      s.byKind.set(kind, (s.byKind.get(kind) ?? 0) + 1)
      const other = into === a ? b : a
      await store.write({ key: into.key, data: bytes, ref: null, mode: 'upsert', ttl: TTL })
      try {
        const session = await sessions.load(into.id)
        // Use the data the way apps do; none of it may reach Object.prototype.
        const copy = { ...session.data }
        Object.assign({}, session.data, copy)
        JSON.parse(JSON.stringify(session.data))
        if (session.isNew) s.fresh++
        else {
          if (encrypted) {
            s.forged++
            note('tampered payload accepted', kind, JSON.stringify(session.data))
          }
          const text = JSON.stringify(session.data)
          if (text.includes(other.secret)) {
            if (kind === 'swapped' && !encrypted) {
              // Documented: without aesGcm, whoever can write the table can move data between rows.
              s.moved++
            } else {
              s.leaked++
              note('leaked', kind, text)
            }
          }
        }
        if (kind === 'swapped') s.swaps++
        // Commit too (a touch or a rewrite of what was loaded) and check nothing escapes.
        if (!session.isNew) await sessions.commit(session)
      } catch (e) {
        if (!(isSessionError(e) && e.code === 'E_STORE')) {
          s.thrown++
          note('thrown', kind, e)
        }
      }
      await restore()
    }),
    { numRuns: runs },
  )
  // The real rows still load as themselves.
  for (const x of [a, b]) {
    const back = await sessions.load(x.id)
    if (back.isNew || back.data.secret !== x.secret) s.leaked++
  }
  return s
}

describe('stored payloads loaded through the manager', () => {
  const variants = [
    { name: 'no filters', encrypted: false },
    { name: 'aesGcm + secret', encrypted: true },
  ]
  for (const variant of variants) {
    it(`${n(RUNS)} tampered payloads, ${variant.name}`, async () => {
      const sessions = createSessions({
        store: new MemoryStore(),
        ...(variant.encrypted
          ? {
              filters: [aesGcm({ keys: { k1: randomBytes(32) }, current: 'k1' })],
              secret: randomBytes(32),
            }
          : {}),
      })
      const s = await fuzzPayloads(sessions, variant.encrypted, RUNS)
      const prototype = protoChanges()
      const label = `${n(s.cases)} payloads, ${variant.name}`
      figure({
        section: SECTION,
        name: `payload cases run (${variant.name})`,
        value: s.cases,
        target: `≥ ${n(RUNS)}`,
      })
      figure({
        section: SECTION,
        name: `thrown errors other than E_STORE (${label})`,
        value: s.thrown,
        target: '0',
      })
      figure({
        section: SECTION,
        name: `sessions leaked across keys (${label})`,
        value: s.leaked,
        target: '0',
      })
      figure({ section: SECTION, name: `prototype changes (${label})`, value: prototype, target: '0' })
      figure({ section: SECTION, name: `loads that gave a fresh session (${label})`, value: s.fresh })
      if (variant.encrypted)
        figure({
          section: SECTION,
          name: `tampered payloads accepted as a session (${label})`,
          value: s.forged,
          target: '0',
        })
      figure({
        section: SECTION,
        name: variant.encrypted
          ? `rows swapped between keys and accepted (${n(s.swaps)} swaps, aesGcm binds the key)`
          : `rows swapped between keys and read as the other key's data (${n(s.swaps)} swaps; without aesGcm a database writer can move sessions: the reason for aesGcm + secret)`,
        value: s.moved,
        target: variant.encrypted ? '0' : 'all swaps (documented)',
      })
      if (s.examples.length > 0) console.log(`[bad-input] payload examples:\n${s.examples.join('\n')}`)
      console.log(`[bad-input] payload cases by kind: ${JSON.stringify(Object.fromEntries(s.byKind))}`)
      expect(s.examples).toEqual([])
      expect(s.cases).toBeGreaterThanOrEqual(RUNS)
      expect(s.thrown).toBe(0)
      expect(s.leaked).toBe(0)
      expect(s.forged).toBe(0)
      expect(prototype).toBe(0)
      expect(s.swaps).toBeGreaterThan(0)
      // Without encryption every swap moves the data (the documented limit); with it, none does.
      expect(s.moved).toBe(variant.encrypted ? 0 : s.swaps)
    })
  }
})

beforeAll(() => {
  expect(protoChanges()).toBe(0)
})
