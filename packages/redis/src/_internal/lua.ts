import { createHash } from 'node:crypto'

/**
 * The Lua scripts. Each runs atomically on the shard's slot and reads the time from Redis
 * (`TIME`), so app servers with skewed clocks agree on expiry. Row hash fields:
 * d data, r ref, c created, m modified, e expiry, v version, l lease token, le lease expiry.
 * A null ref is sent and returned as '' (refs are never empty).
 */

// Shared helpers, prepended to every script. KEYS of the index scripts are always
// exp, keys, refOf, refs of one shard; ARGV[1] is the shard tag (row and ref-set keys derive from it).
// The per-session scripts (write, touch, destroy) get the row key alone and derive the rest: each
// argument costs the client and Redis on the busiest paths, and every key shares the row's hash tag.
const PRELUDE = `
local function now_ms()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
local function ref_set(tag, ref) return tag .. ':r:' .. ref end
-- A row key is <tag>:k:<key>, and a tag ends at its only '}' (prefixes cannot hold braces).
local function split_row(row)
  local close = string.find(row, '}', 1, true)
  return string.sub(row, 1, close), string.sub(row, close + 4)
end
local function drop_ref(tag, refs, key, ref)
  local rs = ref_set(tag, ref)
  redis.call('SREM', rs, key)
  if redis.call('SCARD', rs) == 0 then redis.call('ZREM', refs, ref) end
end
-- Remove a session and every index entry of it; returns owned (the row or its expiry entry
-- was still there, so this caller is the one to report it) and the ref it had.
local function remove(tag, exp, keys, refOf, refs, key)
  local row = tag .. ':k:' .. key
  local ref = redis.call('HGET', refOf, key)
  if not ref then ref = redis.call('HGET', row, 'r') end
  local owned = redis.call('DEL', row) + redis.call('ZREM', exp, key)
  redis.call('ZREM', keys, key)
  redis.call('HDEL', refOf, key)
  if ref then drop_ref(tag, refs, key, ref) end
  return owned > 0, ref or ''
end
`

// KEYS row; ARGV data opts [ref [lease]], opts = <mode i|u|s><k if keepExpiry>:<ttl>:<maxAge>:<version>
// (empty maxAge or version: none). Small settings travel packed in one argument.
const WRITE = `
local now = now_ms()
local tag, key = split_row(KEYS[1])
local mode, keepArg, ttl, maxAge, want = string.match(ARGV[2], '^(%a)(k?):(%d+):(%d*):([^:]*)$')
if not mode then return redis.error_reply('ERR sessile: malformed write options') end
ttl = tonumber(ttl)
local ref, lease = ARGV[3] or '', ARGV[4] or ''
local row = redis.call('HMGET', KEYS[1], 'c', 'e', 'v', 'l', 'r')
local live = row[2] and tonumber(row[2]) > now
if mode == 'i' and live then return {0, 'exists'} end
if mode == 'u' and not live then return {0, 'missing'} end
if want ~= '' and live and tonumber(row[3]) ~= tonumber(want) then return {0, 'conflict'} end
local created, version = now, 1
if live then
  created = tonumber(row[1])
  version = tonumber(row[3]) + 1
elseif row[2] then
  -- A leftover without a live expiry (should not exist) must not lend its lease or fields. Only
  -- then: Redis checks maxmemory at a script's first write only, so the first write must be the
  -- HSET that grows memory, never a DEL, or a full Redis would take the whole script.
  redis.call('DEL', KEYS[1])
end
local expiry
local keep = live and mode == 'u' and keepArg == 'k'
if keep then
  expiry = tonumber(row[2])
else
  expiry = now + ttl
  if maxAge ~= '' then expiry = math.min(expiry, created + tonumber(maxAge)) end
  -- touchSlack: an expiry that would move forward by less than this stays, so repeated writes
  -- leave the TTL and the expiry index alone.
  if live and expiry >= tonumber(row[2]) and expiry - tonumber(row[2]) < math.min(1000, math.floor(ttl / 100)) then
    expiry = tonumber(row[2])
    keep = true
  end
end
-- One HSET for every field written (the ref among them when there is one).
local fields = {'d', ARGV[1], 'm', now, 'v', version}
if not keep then fields[#fields + 1] = 'e'; fields[#fields + 1] = expiry end
if not live then fields[#fields + 1] = 'c'; fields[#fields + 1] = created end
if ref ~= '' then fields[#fields + 1] = 'r'; fields[#fields + 1] = ref end
redis.call('HSET', KEYS[1], unpack(fields))
if ref == '' and live and row[5] then redis.call('HDEL', KEYS[1], 'r') end
if live and row[4] and row[4] == lease then redis.call('HDEL', KEYS[1], 'l', 'le') end
if not keep then
  redis.call('PEXPIREAT', KEYS[1], expiry)
  redis.call('ZADD', tag .. ':exp', expiry, key)
end
if not live then redis.call('ZADD', tag .. ':keys', 0, key) end
-- The ref index is read, not the row's r: a write also repairs an index entry that was lost.
local refOf, refs = tag .. ':ref', tag .. ':refs'
local old = redis.call('HGET', refOf, key) or ''
if old ~= ref then
  if old ~= '' then drop_ref(tag, refs, key, old) end
  if ref ~= '' then
    redis.call('HSET', refOf, key, ref)
    redis.call('SADD', ref_set(tag, ref), key)
    redis.call('ZADD', refs, 0, ref)
  else
    redis.call('HDEL', refOf, key)
  end
end
return {1, version, expiry}
`

// KEYS row; returns {now} or {now, d, r, c, m, e, v}
const READ = `
local now = now_ms()
local r = redis.call('HMGET', KEYS[1], 'd', 'r', 'c', 'm', 'e', 'v')
if not r[5] or tonumber(r[5]) <= now then return {now} end
return {now, r[1], r[2] or '', tonumber(r[3]), tonumber(r[4]), tonumber(r[5]), tonumber(r[6])}
`

// KEYS row; ARGV ttl [maxAge [lease]] (empty maxAge: none)
const TOUCH = `
local now = now_ms()
local r = redis.call('HMGET', KEYS[1], 'c', 'e', 'l')
if not r[2] or tonumber(r[2]) <= now then return 0 end
local ttl, maxAge, lease = tonumber(ARGV[1]), ARGV[2] or '', ARGV[3] or ''
local expiry = now + ttl
if maxAge ~= '' then expiry = math.min(expiry, tonumber(r[1]) + tonumber(maxAge)) end
if r[3] and r[3] == lease then redis.call('HDEL', KEYS[1], 'l', 'le') end
-- touchSlack: a move forward by less than 1 % of the ttl (at most 1 s) is not written.
local cur = tonumber(r[2])
if expiry >= cur and expiry - cur < math.min(1000, math.floor(ttl / 100)) then return 1 end
local tag, key = split_row(KEYS[1])
redis.call('HSET', KEYS[1], 'e', expiry)
redis.call('PEXPIREAT', KEYS[1], expiry)
redis.call('ZADD', tag .. ':exp', expiry, key)
return 1
`

// KEYS row; ARGV token ttl
const LEASE = `
local now = now_ms()
local r = redis.call('HMGET', KEYS[1], 'd', 'r', 'c', 'm', 'e', 'v', 'l', 'le')
if not r[5] or tonumber(r[5]) <= now then return {'missing'} end
if r[7] and r[7] ~= ARGV[1] and tonumber(r[8]) > now then return {'held', tonumber(r[8]) - now} end
redis.call('HSET', KEYS[1], 'l', ARGV[1], 'le', now + tonumber(ARGV[2]))
return {'ok', now, r[1], r[2] or '', tonumber(r[3]), tonumber(r[4]), tonumber(r[5]), tonumber(r[6])}
`

// KEYS row; ARGV token
const RELEASE = `
local r = redis.call('HMGET', KEYS[1], 'l', 'le')
if not r[1] or r[1] ~= ARGV[1] then return 0 end
redis.call('HDEL', KEYS[1], 'l', 'le')
if tonumber(r[2]) > now_ms() then return 1 end
return 0
`

// KEYS row; returns {} or {ref}
const DESTROY = `
local tag, key = split_row(KEYS[1])
local owned, ref = remove(tag, tag .. ':exp', tag .. ':keys', tag .. ':ref', tag .. ':refs', key)
if owned then return {ref} end
return {}
`

// KEYS exp keys refOf refs; ARGV tag limit; returns {key, ref, key, ref, ...}.
// The expiry index decides what is due, but the row is checked before it is deleted: an entry
// that lags its row (the row is still live) is moved to the row's expiry, not reported.
const SWEEP = `
local now = now_ms()
local tag, limit = ARGV[1], tonumber(ARGV[2])
local out, n = {}, 0
while n < limit do
  local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', now, 'LIMIT', 0, limit - n)
  if #due == 0 then break end
  for _, key in ipairs(due) do
    local e = redis.call('HGET', tag .. ':k:' .. key, 'e')
    if e and tonumber(e) > now then
      redis.call('ZADD', KEYS[1], e, key)
    else
      local owned, ref = remove(tag, KEYS[1], KEYS[2], KEYS[3], KEYS[4], key)
      out[#out + 1] = key
      out[#out + 1] = ref
      n = n + 1
    end
  end
end
return out
`

// KEYS exp; returns the number of live entries
const COUNT = `
return redis.call('ZCOUNT', KEYS[1], '(' .. now_ms(), '+inf')
`

// KEYS exp keys refOf refs; ARGV tag ref; returns {key, ref, c, m, e, v, ...} of live rows
const FIND_BY_REF = `
local now = now_ms()
local out = {}
for _, key in ipairs(redis.call('SMEMBERS', ref_set(ARGV[1], ARGV[2]))) do
  local r = redis.call('HMGET', ARGV[1] .. ':k:' .. key, 'r', 'c', 'm', 'e', 'v')
  if r[4] and tonumber(r[4]) > now and r[1] == ARGV[2] then
    out[#out + 1] = key
    for i = 2, 5 do out[#out + 1] = r[i] end
  end
end
return out
`

// KEYS exp keys refOf refs; ARGV tag ref; returns the keys it removed
const DESTROY_BY_REF = `
local out = {}
for _, key in ipairs(redis.call('SMEMBERS', ref_set(ARGV[1], ARGV[2]))) do
  local owned = remove(ARGV[1], KEYS[1], KEYS[2], KEYS[3], KEYS[4], key)
  if owned then out[#out + 1] = key end
end
return out
`

// KEYS exp keys refOf refs; ARGV tag limit; distinct refs with a live session, in binary order
const REFS = `
local now = now_ms()
local out, start = {}, '-'
local limit = tonumber(ARGV[2])
while #out < limit do
  local page = redis.call('ZRANGEBYLEX', KEYS[4], start, '+', 'LIMIT', 0, 100)
  if #page == 0 then break end
  for _, ref in ipairs(page) do
    for _, key in ipairs(redis.call('SMEMBERS', ref_set(ARGV[1], ref))) do
      local e = redis.call('HGET', ARGV[1] .. ':k:' .. key, 'e')
      if e and tonumber(e) > now then
        out[#out + 1] = ref
        break
      end
    end
    if #out >= limit then break end
  end
  start = '(' .. page[#page]
end
return out
`

// KEYS exp keys refOf refs; ARGV tag limit after ('' = from the start);
// returns {key, d, r, c, m, e, v, ...} of live rows in binary key order
const LIST = `
local now = now_ms()
local limit = tonumber(ARGV[2])
local out, n = {}, 0
local start = '-'
if ARGV[3] ~= '' then start = '(' .. ARGV[3] end
while n < limit do
  local page = redis.call('ZRANGEBYLEX', KEYS[2], start, '+', 'LIMIT', 0, limit - n)
  if #page == 0 then break end
  for _, key in ipairs(page) do
    local r = redis.call('HMGET', ARGV[1] .. ':k:' .. key, 'd', 'r', 'c', 'm', 'e', 'v')
    if r[5] and tonumber(r[5]) > now then
      out[#out + 1] = key
      out[#out + 1] = r[1]
      out[#out + 1] = r[2] or ''
      for i = 3, 6 do out[#out + 1] = r[i] end
      n = n + 1
    end
  end
  start = '(' .. page[#page]
end
return out
`

// KEYS exp keys refOf refs; ARGV tag; deletes every row and index the shard's indexes know
const CLEAR = `
local tag = ARGV[1]
for _, idx in ipairs({KEYS[1], KEYS[2]}) do
  for _, key in ipairs(redis.call('ZRANGE', idx, 0, -1)) do redis.call('DEL', tag .. ':k:' .. key) end
end
for _, ref in ipairs(redis.call('ZRANGE', KEYS[4], 0, -1)) do redis.call('DEL', ref_set(tag, ref)) end
redis.call('DEL', KEYS[1], KEYS[2], KEYS[3], KEYS[4])
return 0
`

/** A script with its SHA1, sent by EVALSHA and loaded with EVAL when the server lacks it. */
export interface Script {
  readonly name: string
  readonly lua: string
  readonly sha: string
  readonly keys: number
}

function script(name: string, body: string, keys: number): Script {
  const lua = `${PRELUDE}\n${body}`
  return { name, lua, sha: createHash('sha1').update(lua).digest('hex'), keys }
}

export const SCRIPTS = {
  write: script('write', WRITE, 1),
  read: script('read', READ, 1),
  touch: script('touch', TOUCH, 1),
  lease: script('lease', LEASE, 1),
  release: script('release', RELEASE, 1),
  destroy: script('destroy', DESTROY, 1),
  sweep: script('sweep', SWEEP, 4),
  count: script('count', COUNT, 1),
  findByRef: script('findByRef', FIND_BY_REF, 4),
  destroyByRef: script('destroyByRef', DESTROY_BY_REF, 4),
  refs: script('refs', REFS, 4),
  list: script('list', LIST, 4),
  clear: script('clear', CLEAR, 4),
} as const
