// Throughput of the filters through the envelope, next to the same work done with node:zlib and
// node:crypto directly. Runs against the built package: pnpm --filter @sessile/filters build && pnpm bench
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto'
import { performance } from 'node:perf_hooks'
import { brotliCompressSync, brotliDecompressSync, constants, gunzipSync, gzipSync } from 'node:zlib'
import { builtinDecoders, decodeEnvelope, encodeEnvelope } from '@sessile/core'
import { aesGcm, brotli, gzip } from '@sessile/filters'

const MAX = 1024 * 1024
const KEY = 'bench-session-storage-key'
const MIN_TIME_MS = Number(process.env.BENCH_MS ?? 200)
const ROUNDS = 3
const key = randomBytes(32)

/** Session-like JSON: an object of users, carts and flags, with the repetition real sessions have. */
function jsonLike(size) {
  const out = { userId: 'u-123456', csrf: randomBytes(16).toString('hex'), items: [] }
  let i = 0
  while (Buffer.byteLength(JSON.stringify(out)) < size) {
    out.items.push({
      sku: `SKU-${(i * 7919) % 100000}`,
      qty: (i % 5) + 1,
      price: ((i * 37) % 10000) / 100,
      seen: 1700000000000 + i * 1000,
    })
    i++
  }
  return Buffer.from(JSON.stringify(out).slice(0, size))
}

// The same work without the package: what a hand-written filter would cost.
const raw = {
  gz: (b) => gzipSync(b, { level: 6 }),
  ungz: (b) => gunzipSync(b, { maxOutputLength: MAX }),
  br: (b) =>
    brotliCompressSync(b, {
      params: {
        [constants.BROTLI_PARAM_QUALITY]: 5,
        [constants.BROTLI_PARAM_MODE]: constants.BROTLI_MODE_TEXT,
        [constants.BROTLI_PARAM_SIZE_HINT]: b.length,
      },
    }),
  unbr: (b) => brotliDecompressSync(b, { maxOutputLength: MAX }),
  seal(b, aad) {
    const iv = randomBytes(12)
    const c = createCipheriv('aes-256-gcm', key, iv, { authTagLength: 16 })
    c.setAAD(aad)
    const head = c.update(b)
    return Buffer.concat([iv, head, c.final(), c.getAuthTag()])
  },
  open(b, aad) {
    const d = createDecipheriv('aes-256-gcm', key, b.subarray(0, 12), { authTagLength: 16 })
    d.setAAD(aad)
    d.setAuthTag(b.subarray(b.length - 16))
    return Buffer.concat([d.update(b.subarray(12, b.length - 16)), d.final()])
  },
}
const aad = Buffer.concat([
  Buffer.from('S\x01\x0baes-256-gcm\x02k1', 'latin1'),
  Buffer.of(0xff),
  Buffer.from(KEY),
])

const configs = [
  { name: 'gzip', filters: () => [gzip({ threshold: 0 })], enc: raw.gz, dec: raw.ungz },
  { name: 'brotli', filters: () => [brotli({ threshold: 0 })], enc: raw.br, dec: raw.unbr },
  {
    name: 'aesGcm',
    filters: () => [aesGcm({ keys: { k1: key }, current: 'k1' })],
    enc: (b) => raw.seal(b, aad),
    dec: (b) => raw.open(b, aad),
  },
  {
    name: 'gzip+aesGcm',
    filters: () => [gzip({ threshold: 0 }), aesGcm({ keys: { k1: key }, current: 'k1' })],
    enc: (b) => raw.seal(raw.gz(b), aad),
    dec: (b) => raw.ungz(raw.open(b, aad)),
  },
]

/** Run fn until MIN_TIME_MS has passed; MB/s of plaintext handled. */
async function measure(bytes, fn) {
  for (let i = 0; i < 20; i++) await fn() // warm up
  let n = 0
  const start = performance.now()
  let elapsed = 0
  while (elapsed < MIN_TIME_MS) {
    for (let i = 0; i < 10; i++) await fn()
    n += 10
    elapsed = performance.now() - start
  }
  return (bytes * n) / 1e6 / (elapsed / 1000)
}

const fmt = (x) => x.toFixed(1).padStart(8)
console.log(
  `node ${process.version}, best of ${ROUNDS} rounds of ${MIN_TIME_MS} ms per figure; MB/s of plaintext (1 MB = 10^6 bytes)`,
)
console.log('ratio = through @sessile/filters (envelope included) / node:zlib + node:crypto directly\n')
console.log('filter        size   stored    enc MB/s  direct  ratio    dec MB/s  direct  ratio')
for (const c of configs) {
  for (const size of [1024, 16 * 1024, 256 * 1024]) {
    const plain = jsonLike(size)
    const filters = c.filters()
    const decoders = new Map([...builtinDecoders, ...filters].map((f) => [f.id, f]))
    const payload = await encodeEnvelope(filters, plain, KEY, MAX)
    const check = await decodeEnvelope(payload, KEY, decoders, filters, MAX)
    if (!Buffer.from(check.plaintext).equals(plain)) throw new Error(`${c.name} did not round-trip`)
    const direct = c.enc(plain)
    // Alternate the two sides and keep each one's best round, so a burst of load from other
    // processes on the machine does not land on one side only.
    let [encF, encD, decF, decD] = [0, 0, 0, 0]
    for (let round = 0; round < ROUNDS; round++) {
      encF = Math.max(encF, await measure(size, () => encodeEnvelope(filters, plain, KEY, MAX)))
      encD = Math.max(encD, await measure(size, () => c.enc(plain)))
      decF = Math.max(decF, await measure(size, () => decodeEnvelope(payload, KEY, decoders, filters, MAX)))
      decD = Math.max(decD, await measure(size, () => c.dec(direct)))
    }
    console.log(
      `${c.name.padEnd(12)}${`${size / 1024}K`.padStart(6)}${String(payload.length).padStart(9)}  ${fmt(encF)}${fmt(encD)}${(encF / encD).toFixed(2).padStart(7)}  ${fmt(decF)}${fmt(decD)}${(decF / decD).toFixed(2).padStart(7)}`,
    )
  }
}
