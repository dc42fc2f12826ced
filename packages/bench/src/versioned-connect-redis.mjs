// connect-redis with its SET replaced by the least versioned write on Redis's clock: a diagnostic
// contender (probe.mjs, store-calls.mjs) that shows what keeping a version costs on its own.
import RedisStore from 'connect-redis'

// The row: version (16 digits), the time of the write on Redis's clock (13), then the JSON.
// TIME, the version compare and one SET: what any versioned write must do at least.
const LEAST_VERSIONED = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local v = redis.call('GETRANGE', KEYS[1], 0, 15)
if v == '' then v = '0' end
if tonumber(v) ~= tonumber(ARGV[2]) then return 0 end
redis.call('SET', KEYS[1], string.format('%016d%013d', tonumber(v) + 1, now) .. ARGV[1], 'EX', ARGV[3])
return 1
`
const HEAD = 29

/** A connect-redis store on `redis` (ioredis) whose writes fail on a version conflict. */
export async function versionedConnectRedis(redis, prefix) {
  const sha = await redis.script('LOAD', LEAST_VERSIONED)
  // connect-redis adapts a client by its get/set/del/expire/mget/scan; set gets (key, value, 'EX', ttl).
  const client = {
    get: (key) => redis.get(key),
    set: async (key, value, _ex, ttl) => {
      const ok = await redis.evalsha(sha, 1, key, value.slice(16), value.slice(0, 16), ttl)
      if (ok !== 1) throw new Error('version conflict')
    },
    del: (key) => redis.del(key),
    expire: (key, ttl) => redis.expire(key, ttl),
    mget: (keys) => redis.mget(keys),
    scan: (...args) => redis.scan(...args),
  }
  // The version read travels in the session as `_v` and comes back to set as the expected one.
  const serializer = {
    parse: (row) => Object.assign(JSON.parse(row.slice(HEAD)), { _v: row.slice(0, 16) }),
    stringify: (sess) => (sess._v ?? '0'.repeat(16)) + JSON.stringify(sess),
  }
  return new RedisStore({ client, prefix, serializer })
}
