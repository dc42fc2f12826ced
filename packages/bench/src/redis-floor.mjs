// How close any script-based write can come to one plain command on Redis, one request at a
// time (concurrency 1, where every µs Redis spends adds to the round trip). A diagnostic, not a
// benchmark target:
//
//   node src/redis-floor.mjs            # FLOOR_ROUNDS=7 FLOOR_OPS=3000 FLOOR_BYTES=400
//
// Contenders take turns round by round on one connection each; per operation it prints the
// median wall time, its ratio to the plain command, and Redis's own time (INFO commandstats
// deltas, so other clients of a shared Redis only add noise). The "least script" is the smallest
// versioned write on Redis's clock: TIME, the header, the version compare, one SET.
import { redisStore } from '@sessile/redis'
import { Redis } from 'ioredis'
import { config } from './config.mjs'
import { uniqueTable } from './ids.mjs'
import { median } from './stats.mjs'
import { dropRedisPrefix } from './store-contenders.mjs'

const rounds = Number(process.env.FLOOR_ROUNDS ?? 7)
const ops = Number(process.env.FLOOR_OPS ?? 3000)
const bytes = Number(process.env.FLOOR_BYTES ?? 400)
const TTL = 30 * 60_000

const prefix = `${uniqueTable('bench_floor')}:`
const payload = `{"pad":"${'x'.repeat(Math.max(0, bytes - 10))}"}`
const data = new Uint8Array(Buffer.from(payload, 'latin1'))
const client = () => new Redis(config.redisUrl, { maxRetriesPerRequest: 3 })

const EMPTY = 'return 1'
// The header's layout is the store's (packages/redis/src/_internal/lua.ts): version at 41-56.
const LEAST = `
local t = redis.call('TIME')
local now = t[1] * 1000 + math.floor(t[2] / 1000)
local h = redis.call('GETRANGE', KEYS[1], 0, 58)
local v = tonumber(string.sub(h, 41, 56))
if not v or v ~= tonumber(ARGV[2]) then return {0, 'conflict'} end
redis.call('SET', KEYS[1], string.sub(h, 1, 40) .. string.format('%016d', v + 1) .. string.sub(h, 57) .. ARGV[1], 'KEEPTTL')
return {1, v + 1, now}
`

const store = redisStore({ url: config.redisUrl, prefix, shards: 1, onWarning: false })
const raw = client()
const scripted = client()
const key = 'floor-session'
const row = `${prefix}{0}:k:${key}`
const plainKey = `${prefix}plain`
await store.write({ key, data, ref: null, mode: 'insert', ttl: TTL })
let version = ''
// The store's own updates move the version between the least script's turns.
const readVersion = async () => {
  version = String((await store.read(key)).version)
}
await raw.set(plainKey, payload, 'PX', TTL)
const emptySha = await scripted.script('LOAD', EMPTY)
const leastSha = await scripted.script('LOAD', LEAST)

/** name, the command INFO commandstats files its Redis time under, one operation, set-up. */
const contenders = [
  ['SET XX KEEPTTL (floor)', 'set', () => raw.set(plainKey, payload, 'XX', 'KEEPTTL')],
  [
    'EVALSHA of an empty script',
    'evalsha',
    () => scripted.evalsha(emptySha, 1, row, payload, 'uk:1800000::'),
  ],
  [
    'EVALSHA of the least script',
    'evalsha',
    async () => {
      const [ok, v] = await scripted.evalsha(leastSha, 1, row, payload, version)
      if (ok !== 1) throw new Error('the least script lost its version')
      version = String(v)
    },
    readVersion,
  ],
  [
    'Sessile store update',
    'evalsha',
    () => store.write({ key, data, ref: null, mode: 'update', ttl: TTL, keepExpiry: true }),
  ],
]

async function usecOf(command) {
  const info = await raw.info('commandstats')
  const m = info.match(new RegExp(`cmdstat_${command}:calls=(\\d+),usec=(\\d+)`))
  return m ? Number(m[2]) : 0
}

const wall = new Map(contenders.map(([name]) => [name, []]))
const server = new Map(contenders.map(([name]) => [name, []]))
try {
  for (let r = 0; r < rounds; r++) {
    for (let i = 0; i < contenders.length; i++) {
      const [name, command, op, setUp] = contenders[(i + r) % contenders.length]
      await setUp?.()
      for (let w = 0; w < 200; w++) await op()
      const before = await usecOf(command)
      const t0 = process.hrtime.bigint()
      for (let n = 0; n < ops; n++) await op()
      wall.get(name).push(Number(process.hrtime.bigint() - t0) / 1000 / ops)
      server.get(name).push(((await usecOf(command)) - before) / ops)
    }
  }
  const floor = median(wall.get(contenders[0][0]))
  console.log(`${bytes} B payload, ${rounds} rounds of ${ops} sequential operations, medians`)
  for (const [name] of contenders) {
    const w = median(wall.get(name))
    const s = median(server.get(name))
    console.log(
      `${name.padEnd(30)} ${w.toFixed(1).padStart(6)} µs  ${(floor / w).toFixed(2)} of the floor  Redis ${s.toFixed(1)} µs`,
    )
  }
} finally {
  await store.clear()
  await store.close()
  await dropRedisPrefix(raw, prefix)
  raw.disconnect()
  scripted.disconnect()
}
