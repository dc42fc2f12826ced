// Over 300 lines on purpose: every Lua script the store runs, beside the helpers they share, so a
// change to the row layout or an index is made and reviewed in one file.

import { createHash } from 'node:crypto'

/**
 * The Lua scripts. Each runs atomically on the shard's slot and reads the time from Redis
 * (`TIME`), so app servers with skewed clocks agree on expiry.
 *
 * A row is one string: a fixed 59-byte header, the ref's UTF-8 bytes, then the data.
 * Header (decimal digits, zero-padded): '1' (layout), created 13, modified 13, expiry 13,
 * version 16, ref length in bytes 3. `src/_internal/row.ts` reads it on the app side.
 * A lease is a key of its own, <tag>:l:<key> = created 13 .. lease expiry 13 .. token, with
 * the lease's TTL; it counts only for the row whose created it names.
 * A null ref is sent and returned as '' (refs are never empty).
 */

// Shared helpers. A script gets only those it uses (and what they use): Lua makes a closure of
// every local function each time a script runs, which costs Redis on every call.
// KEYS of the index scripts are always exp, keys, refOf, refs of one shard; ARGV[1] is the shard
// tag (row and ref-set keys derive from it). The per-session scripts get the row key alone and
// derive the rest: each argument costs the client and Redis on the busiest paths, and every key
// shares the row's hash tag.
const HELPERS: [name: string, lua: string][] = [
  ['HEAD', 'local HEAD = 59'],
  [
    'now_ms',
    `local function now_ms()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end`,
  ],
  // The row's header, '' when there is no row.
  ['head', `local function head(row) return redis.call('GETRANGE', row, 0, HEAD - 1) end`],
  [
    'expiry_of',
    `local function expiry_of(h)
  if #h < HEAD then return nil end
  return tonumber(string.sub(h, 28, 40))
end`,
  ],
  ['created_of', `local function created_of(h) return tonumber(string.sub(h, 2, 14)) end`],
  ['version_of', `local function version_of(h) return tonumber(string.sub(h, 41, 56)) end`],
  [
    'row_ref',
    `local function row_ref(row, h)
  local n = tonumber(string.sub(h, 57, 59))
  if n == 0 then return '' end
  return redis.call('GETRANGE', row, HEAD, HEAD + n - 1)
end`,
  ],
  [
    'header',
    `local function header(created, modified, expiry, version, ref)
  return string.format('1%013d%013d%013d%016d%03d', created, modified, expiry, version, #ref)
end`,
  ],
  // Writes and destroys answer with a string, not a table: on Redis 7.0 a script's table reply
  // costs far more after a request of over 16 KiB on the same connection (a staged payload), a
  // string or an integer reply does not (docs/redis.md, "Replies").
  ['wrote', `local function wrote(version, expiry) return string.format('%d:%d', version, expiry) end`],
  ['ref_set', `local function ref_set(tag, ref) return tag .. ':r:' .. ref end`],
  // A row key is <tag>:k:<key>, and a tag ends at its only '}' (prefixes cannot hold braces).
  [
    'split_row',
    `local function split_row(row)
  local close = string.find(row, '}', 1, true)
  return string.sub(row, 1, close), string.sub(row, close + 4)
end`,
  ],
  // A lease's value: the created time of the row it holds (13), its expiry (13), the token.
  ['lease_created', `local function lease_created(l) return tonumber(string.sub(l, 1, 13)) end`],
  ['lease_expiry', `local function lease_expiry(l) return tonumber(string.sub(l, 14, 26)) end`],
  ['lease_token', `local function lease_token(l) return string.sub(l, 27) end`],
  // Release the lease of a key if this token holds it; returns the lease's value.
  [
    'release',
    `local function release(tag, key, token)
  local lk = tag .. ':l:' .. key
  local l = redis.call('GET', lk)
  if l and lease_token(l) == token then
    redis.call('DEL', lk)
    return l
  end
  return nil
end`,
  ],
  [
    'drop_ref',
    `local function drop_ref(tag, refs, key, ref)
  local rs = ref_set(tag, ref)
  redis.call('SREM', rs, key)
  if redis.call('SCARD', rs) == 0 then redis.call('ZREM', refs, ref) end
end`,
  ],
  // Remove a session and every index entry of it; returns owned (the row or its expiry entry
  // was still there, so this caller is the one to report it) and the ref it had.
  [
    'remove',
    `local function remove(tag, exp, keys, refOf, refs, key)
  local row = tag .. ':k:' .. key
  local entry = redis.call('HGET', refOf, key)
  local ref = entry
  if not ref then
    local h = head(row)
    if #h == HEAD then ref = row_ref(row, h) end
    if ref == '' then ref = nil end
  end
  local owned = redis.call('DEL', row) + redis.call('ZREM', exp, key)
  redis.call('ZREM', keys, key)
  if entry then redis.call('HDEL', refOf, key) end
  if ref then drop_ref(tag, refs, key, ref) end
  return owned > 0, ref or ''
end`,
  ],
]

/** The helpers `body` uses, directly or through another helper, in definition order. */
function helpersFor(body: string): string {
  let text = body
  const used: string[] = []
  for (let i = HELPERS.length - 1; i >= 0; i--) {
    const [name, lua] = HELPERS[i] as [string, string]
    if (new RegExp(`\\b${name}\\b`).test(text)) {
      used.unshift(lua)
      text += `\n${lua}`
    }
  }
  return used.join('\n')
}

// KEYS row [stage]; ARGV data opts [ref [lease]]; returns 'version:expiry', or the reason it
// refused ('exists', 'missing', 'conflict'). Opts = <mode i|u|s><k if keepExpiry>:<ttl>:<maxAge>:<version>
// (empty maxAge or version: none). Small settings travel packed in one argument.
// A large payload does not pass through Lua, where each argument and each string made costs
// Redis time in proportion to its size (docs/redis.md): the client SETs it (after a placeholder
// header and the ref) on the stage key, in the same slot, just before this script, which then
// renames it into place (data is then '').
const WRITE = `
local now = now_ms()
local stage = KEYS[2]
local mode, keepArg, ttl, maxAge, want = string.match(ARGV[2], '^(%a)(k?):(%d+):(%d*):([^:]*)$')
if not mode then return redis.error_reply('ERR sessile: malformed write options') end
ttl = tonumber(ttl)
local ref, lease = ARGV[3] or '', ARGV[4] or ''
local h = head(KEYS[1])
local cur = expiry_of(h)
local live = cur ~= nil and cur > now
local reason
if mode == 'i' and live then reason = 'exists'
elseif mode == 'u' and not live then reason = 'missing'
elseif live and want ~= '' and version_of(h) ~= tonumber(want) then reason = 'conflict' end
if reason then
  if stage then redis.call('DEL', stage) end
  return reason
end
local created, version = now, 1
if live then
  created = created_of(h)
  version = version_of(h) + 1
end
local expiry
local keep = live and mode == 'u' and keepArg == 'k'
if keep then
  expiry = cur
else
  expiry = now + ttl
  if maxAge ~= '' then expiry = math.min(expiry, created + tonumber(maxAge)) end
  -- touchSlack: an expiry that would move forward by less than this stays, so repeated writes
  -- leave the TTL and the expiry index alone.
  if live and expiry >= cur and expiry - cur < math.min(1000, math.floor(ttl / 100)) then
    expiry = cur
    keep = true
  end
end
-- The row is written first: Redis checks maxmemory at a script's first write only, so the first
-- write must be the one that grows memory (a full Redis then refuses the whole write). A staged
-- payload grew memory with its own SET, which a full Redis refused; RENAME then finds no stage.
local head_now = header(created, now, expiry, version, ref)
if stage then
  redis.call('RENAME', stage, KEYS[1])
  redis.call('SETRANGE', KEYS[1], 0, head_now)
  redis.call('PEXPIREAT', KEYS[1], expiry)
elseif keep then
  redis.call('SET', KEYS[1], head_now .. ref .. ARGV[1], 'KEEPTTL')
else
  redis.call('SET', KEYS[1], head_now .. ref .. ARGV[1], 'PXAT', expiry)
end
-- An update that keeps the expiry of a row without a ref, gives none and holds no lease
-- (the most common write) has no index to change.
if keep and ref == '' and lease == '' and string.sub(h, 57, 59) == '000' then return wrote(version, expiry) end
local tag, key = split_row(KEYS[1])
if not keep then redis.call('ZADD', tag .. ':exp', expiry, key) end
if live and lease ~= '' then release(tag, key, lease) end
if not live then redis.call('ZADD', tag .. ':keys', 0, key) end
-- The ref index is read, not the row's old ref: a write also repairs an index entry that was lost.
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
return wrote(version, expiry)
`

// KEYS row; returns {now} or {now, row}
const READ = `
local now = now_ms()
local r = redis.call('GET', KEYS[1])
if not r then return {now} end
local e = expiry_of(r)
if not e or e <= now then return {now} end
return {now, r}
`

// KEYS row; ARGV ttl [maxAge [lease]] (empty maxAge: none)
const TOUCH = `
local now = now_ms()
local h = head(KEYS[1])
local cur = expiry_of(h)
if not cur or cur <= now then return 0 end
local tag, key = split_row(KEYS[1])
local ttl, maxAge, lease = tonumber(ARGV[1]), ARGV[2] or '', ARGV[3] or ''
local expiry = now + ttl
if maxAge ~= '' then expiry = math.min(expiry, created_of(h) + tonumber(maxAge)) end
if lease ~= '' then release(tag, key, lease) end
-- touchSlack: a move forward by less than 1 % of the ttl (at most 1 s) is not written.
if expiry >= cur and expiry - cur < math.min(1000, math.floor(ttl / 100)) then return 1 end
redis.call('SETRANGE', KEYS[1], 27, string.format('%013d', expiry))
redis.call('PEXPIREAT', KEYS[1], expiry)
redis.call('ZADD', tag .. ':exp', expiry, key)
return 1
`

// KEYS row; ARGV token ttl; returns {'missing'}, {'held', wait} or {'ok', now, row}
const LEASE = `
local now = now_ms()
local r = redis.call('GET', KEYS[1])
if not r then return {'missing'} end
local e = expiry_of(r)
if not e or e <= now then return {'missing'} end
local tag, key = split_row(KEYS[1])
local lk = tag .. ':l:' .. key
local created = created_of(r)
local l = redis.call('GET', lk)
if l and lease_created(l) == created and lease_token(l) ~= ARGV[1] then
  local le = lease_expiry(l)
  if le > now then return {'held', le - now} end
end
local le = now + tonumber(ARGV[2])
redis.call('SET', lk, string.format('%013d%013d', created, le) .. ARGV[1], 'PXAT', le)
return {'ok', now, r}
`

// KEYS row; ARGV token
const RELEASE = `
local tag, key = split_row(KEYS[1])
local l = release(tag, key, ARGV[1])
if not l then return 0 end
local h = head(KEYS[1])
if #h < HEAD or created_of(h) ~= lease_created(l) then return 0 end
if lease_expiry(l) > now_ms() then return 1 end
return 0
`

// KEYS row; returns the ref ('' for none) when this call removed the session, else nil
const DESTROY = `
local tag, key = split_row(KEYS[1])
local owned, ref = remove(tag, tag .. ':exp', tag .. ':keys', tag .. ':ref', tag .. ':refs', key)
if owned then return ref end
return false
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
    local e = expiry_of(head(tag .. ':k:' .. key))
    if e and e > now then
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

// KEYS exp keys refOf refs; ARGV tag ref; returns {key, header, ...} of live rows
const FIND_BY_REF = `
local now = now_ms()
local out = {}
for _, key in ipairs(redis.call('SMEMBERS', ref_set(ARGV[1], ARGV[2]))) do
  local row = ARGV[1] .. ':k:' .. key
  local h = head(row)
  local e = expiry_of(h)
  if e and e > now and row_ref(row, h) == ARGV[2] then
    out[#out + 1] = key
    out[#out + 1] = h
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
      local e = expiry_of(head(ARGV[1] .. ':k:' .. key))
      if e and e > now then
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
// returns {key, row, ...} of live rows in binary key order
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
    local r = redis.call('GET', ARGV[1] .. ':k:' .. key)
    local e = r and expiry_of(r)
    if e and e > now then
      out[#out + 1] = key
      out[#out + 1] = r
      n = n + 1
    end
  end
  start = '(' .. page[#page]
end
return out
`

// KEYS exp keys refOf refs; ARGV tag; deletes every row, lease and index the shard's indexes know
const CLEAR = `
local tag = ARGV[1]
for _, idx in ipairs({KEYS[1], KEYS[2]}) do
  for _, key in ipairs(redis.call('ZRANGE', idx, 0, -1)) do
    redis.call('DEL', tag .. ':k:' .. key, tag .. ':l:' .. key)
  end
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
  const lua = `${helpersFor(body)}\n${body}`
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
