// What one changing request's store calls cost the app process, layer by layer, with no HTTP
// around them: express-session's get and set on 32 sessions at a time against Redis. A
// diagnostic, not a benchmark target:
//
//   node src/store-calls.mjs        # CALLS_ROUNDS=31 CALLS_CYCLES=3000
//
// Contenders take turns slice by slice; per contender it prints the median CPU of this process
// per get-and-set (user + system, so garbage collection on helper threads counts) and its ratio
// to connect-redis. The layers: Sessile's store alone (read, versioned write), with the manager
// (load, commit), and through the express adapter (get, set), beside connect-redis and
// connect-redis with the least versioned write.
import { createSessions } from '@sessile/core'
import { expressStore } from '@sessile/express'
import { redisStore } from '@sessile/redis'
import RedisStore from 'connect-redis'
import { uniqueTable } from './ids.mjs'
import { expressCookie, sessionData } from './payload.mjs'
import { median } from './stats.mjs'
import { cb, dropRedisPrefix, redisClient } from './store-contenders.mjs'
import { versionedConnectRedis } from './versioned-connect-redis.mjs'

const rounds = Number(process.env.CALLS_ROUNDS ?? 31)
const cycles = Number(process.env.CALLS_CYCLES ?? 3000)
const SESSIONS = 32
const TTL = 30 * 60_000
const data = sessionData(400)

/** express-session's part of a changing request: get, a change, set (the cookie's expiry moves). */
const viaExpress = (store) => async (sid) => {
  const sess = await cb((done) => store.get(sid, done))
  sess.cookie.expires = new Date(Date.now() + TTL)
  sess.hits = (sess.hits ?? 0) + 1
  await cb((done) => store.set(sid, sess, done))
}

async function contender(name) {
  const redis = redisClient()
  const prefix = `${uniqueTable('bench_calls')}:`
  const drop = () => dropRedisPrefix(redis, prefix)
  if (name === 'connect-redis' || name === 'connect-redis versioned') {
    const store =
      name === 'connect-redis'
        ? new RedisStore({ client: redis, prefix })
        : await versionedConnectRedis(redis, prefix)
    return {
      redis,
      drop,
      store,
      genid: (i) => `bench-calls-${i}-${'x'.repeat(20)}`,
      cycle: viaExpress(store),
    }
  }
  const made = redisStore({ client: redis, prefix, onWarning: false })
  const sessions = createSessions({ store: made, idleTimeout: TTL })
  const store = expressStore(sessions)
  const base = { redis, drop: () => made.clear(), store, genid: () => store.genid() }
  if (name === 'sessile express') return { ...base, cycle: viaExpress(store) }
  if (name === 'sessile manager') {
    return {
      ...base,
      cycle: async (sid) => {
        const session = await sessions.load(sid)
        session.data.hits = (session.data.hits ?? 0) + 1
        await sessions.commit(session)
      },
    }
  }
  // The store alone: the row read and written back with one byte changed, versioned.
  let n = 0
  return {
    ...base,
    cycle: async (sid) => {
      const row = await made.read(sid)
      const next = Buffer.from(row.data)
      next[next.length - 2] = 48 + (n++ % 10)
      const w = await made.write({
        key: row.key,
        data: next,
        ref: null,
        mode: 'update',
        ttl: TTL,
        version: row.version,
        keepExpiry: true,
      })
      if (!w.ok) throw new Error(`store write refused: ${w.reason}`)
    },
  }
}

const names = [
  'connect-redis',
  'connect-redis versioned',
  'sessile store',
  'sessile manager',
  'sessile express',
]
const all = []
for (const name of names) {
  const c = await contender(name)
  c.name = name
  c.ids = []
  c.cpu = []
  for (let i = 0; i < SESSIONS; i++) {
    const sid = c.genid(i)
    const sess = { cookie: expressCookie(TTL), user: data.user, cart: data.cart, csrf: data.csrf, hits: 0 }
    await cb((done) => c.store.set(sid, sess, done))
    c.ids.push(sid)
  }
  all.push(c)
}
for (let round = 0; round < rounds; round++) {
  for (const c of all) {
    let done = 0
    const before = process.cpuUsage()
    await Promise.all(
      c.ids.map(async (sid) => {
        while (done < cycles) {
          done++
          await c.cycle(sid)
        }
      }),
    )
    const used = process.cpuUsage(before)
    c.cpu.push((used.user + used.system) / done)
  }
}
const floor = median(all[0].cpu)
console.log(`${rounds} interleaved slices of ${cycles} get-and-set cycles, ${SESSIONS} sessions, medians`)
for (const c of all) {
  const m = median(c.cpu)
  console.log(
    `${c.name.padEnd(24)} ${m.toFixed(1).padStart(6)} µs of CPU per cycle  ${(m / floor).toFixed(2)} of connect-redis`,
  )
}
for (const c of all) {
  await c.drop()
  c.redis.disconnect()
}
