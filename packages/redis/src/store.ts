// Over 300 lines on purpose: every SessionStore operation, each a few lines around its one round
// trip to Redis, sharing the client, the key layout and the error wrapping (scripts and the row
// format are in their own files).

import { isAscii } from 'node:buffer'
import { randomBytes } from 'node:crypto'
import { performance } from 'node:perf_hooks'
import {
  type DestroyHint,
  isSessionError,
  type LeaseRequest,
  type LeaseResult,
  type ListOptions,
  type ReadResult,
  SessionError,
  type SessionInfo,
  type SessionRef,
  type SessionStore,
  type StoredSession,
  storeError,
  type TouchRequest,
  validateDestroyHint,
  validateKey,
  validateLease,
  validateLimit,
  validateRef,
  validateToken,
  validateTouch,
  validateWrite,
  type WriteRequest,
  type WriteResult,
} from '@sessile/core'
import { makeClient, socketsOf } from './_internal/connect.js'
import { run } from './_internal/eval.js'
import { checkEviction } from './_internal/eviction.js'
import { checkPrefix, checkShards, rowKey, type ShardKeys, shardKeys, shardOf } from './_internal/layout.js'
import { SCRIPTS, type Script } from './_internal/lua.js'
import { HEAD, infoOf, rowOf, storedOf } from './_internal/row.js'
import type { RedisClient, RedisStoreOptions } from './options.js'

const SOURCE = 'redis'
const DEFAULT_MAX_DATA_BYTES = 16 * 1024 * 1024
/** How old a shard's reading of Redis's clock may be before a read takes the script that reads it again. */
const CLOCK_MS = 1000

/** Redis's clock (`TIME`, ms) as a script on a shard's node read it, and when that script was sent. */
interface Clock {
  at: number
  sent: number
}

type Reply = Buffer | number | null | Reply[]

const str = (b: Reply | undefined): string => (b === null || b === undefined ? '' : b.toString())
// Scripts return numbers as Redis integers.
const num = (b: Reply | undefined): number => (typeof b === 'number' ? b : Number(str(b)))
const refOf = (b: Reply | undefined): string | null => {
  const s = str(b)
  return s === '' ? null : s
}

// Binary order of UTF-8, the order Redis sorts members in.
const cmp = (a: string, b: string): number => Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'))

/** The write script's mode letters. */
const MODE = { insert: 'i', update: 'u', upsert: 's' } as const

/** Up to this size an ASCII payload is sent as text (see {@link payloadArg}). */
const ASCII_ARG_MAX = 64 * 1024

/**
 * The payload as a command argument. A Buffer puts ioredis in buffer mode, which assembles the
 * command from every argument separately; ASCII bytes as a latin1 string are the same bytes on
 * the wire and let it write the command as one string, as for all-text commands.
 */
function payloadArg(d: Uint8Array): string | Buffer {
  const b = Buffer.from(d.buffer, d.byteOffset, d.byteLength)
  return b.length <= ASCII_ARG_MAX && isAscii(b) ? b.toString('latin1') : b
}

/**
 * From this size a payload is staged (see the write script): below it, passing it through Lua
 * costs Redis less than a second command does.
 */
const STAGE_MIN = 4096
/** How long a stage outlives a client that set it and never ran the script (a crash). */
const STAGE_TTL_MS = 60_000
const PLACEHOLDER = '1'.padEnd(HEAD, '0')

/** A stage's value: a header the script overwrites, the ref's UTF-8 bytes, the payload. */
function stageValue(ref: string | null, d: Uint8Array): string | Buffer {
  const data = payloadArg(d)
  if (typeof data === 'string' && (ref === null || Buffer.byteLength(ref) === ref.length)) {
    return PLACEHOLDER + (ref ?? '') + data
  }
  return Buffer.concat([
    Buffer.from(PLACEHOLDER, 'latin1'),
    Buffer.from(ref ?? '', 'utf8'),
    Buffer.from(d.buffer, d.byteOffset, d.byteLength),
  ])
}

/** A session store on one Redis or a Redis Cluster (ioredis). See {@link redisStore}. */
export class RedisStore implements SessionStore {
  readonly name = SOURCE
  readonly maxDataBytes: number
  /** The ioredis client, for health checks; do not write to the store's keys with it. */
  readonly client: RedisClient
  readonly #owned: boolean
  readonly #shards: ShardKeys[]
  readonly #warn: ((message: string) => void) | false
  readonly #clocks: (Clock | undefined)[]
  #checked = false
  #sweepFrom = 0
  /** Stage keys are this store's random id and a counter: unique across app servers and writes. */
  readonly #stageId = randomBytes(8).toString('hex')
  #stages = 0
  #closed = false
  /** Why the store's own client is not connected (its last connection error), for E_STORE. */
  #down: Error | undefined

  constructor(options: RedisStoreOptions = {}) {
    if (typeof options !== 'object' || options === null) {
      throw new SessionError('E_OPTION', SOURCE, 'options must be an object')
    }
    const prefix = checkPrefix(SOURCE, options.prefix ?? 'sessile:')
    const shards = checkShards(SOURCE, options.shards ?? 16)
    const max = options.maxDataBytes ?? DEFAULT_MAX_DATA_BYTES
    if (!Number.isInteger(max) || max < 1 || max > 512 * 1024 * 1024) {
      throw new SessionError('E_OPTION', SOURCE, 'maxDataBytes must be a whole number from 1 to 512 MiB')
    }
    if (
      options.onWarning !== undefined &&
      options.onWarning !== false &&
      typeof options.onWarning !== 'function'
    ) {
      throw new SessionError('E_OPTION', SOURCE, 'onWarning must be a function or false')
    }
    this.maxDataBytes = max
    this.#warn = options.onWarning ?? ((m: string) => console.warn(m))
    this.#shards = Array.from({ length: shards }, (_, i) => shardKeys(prefix, i))
    this.#clocks = new Array<Clock | undefined>(shards).fill(undefined)
    const { client, owned } = makeClient(options)
    this.client = client
    this.#owned = owned
    // Failures reach callers as E_STORE, naming the connection error; the client reconnects by
    // itself. Without a listener, ioredis would print every reconnect error of an owned client.
    if (owned) {
      client.on('error', (error: Error) => {
        this.#down = error
      })
      client.on('ready', () => {
        this.#down = undefined
      })
    }
  }

  #shard(key: string): ShardKeys {
    return this.#shards[shardOf(key, this.#shards.length)] as ShardKeys
  }

  #run(action: string, script: Script, keys: string[], args: (string | Buffer | number)[]): Promise<Reply> {
    return this.#send(action, () => run(this.client, script, keys, args))
  }

  // Not an async function: one promise less per operation on the way that succeeds.
  #send(action: string, command: () => Promise<unknown>): Promise<Reply> {
    if (this.#closed) return Promise.reject(new SessionError('E_STORE', SOURCE, 'the store is closed'))
    if (!this.#checked) {
      this.#checked = true
      if (this.#warn) void checkEviction(this.client, this.#warn).catch(() => {})
    }
    let pending: Promise<unknown>
    try {
      pending = command()
    } catch (error) {
      pending = Promise.reject(error)
    }
    return (pending as Promise<Reply>).catch((error: unknown) => {
      throw this.#failed(action, error)
    })
  }

  /**
   * E_STORE for a failed command. While the client cannot connect, the connection error is the
   * cause (the command's own error only says the client gave up retrying); a connected client's
   * failures keep their own.
   */
  #failed(action: string, error: unknown): SessionError {
    const down = this.#down
    if (down === undefined || this.client.status === 'ready' || isSessionError(error)) {
      return storeError(SOURCE, action, error)
    }
    return new SessionError('E_STORE', SOURCE, `${action} failed: Redis is not connected (${down.message})`, {
      cause: down,
    })
  }

  /**
   * Commands sent by `send` (synchronously) leave in one write per socket: Redis then reads, runs
   * and answers them in one pass instead of one wake-up each.
   */
  #together<T>(send: () => T): T {
    const sockets = socketsOf(this.client)
    for (const socket of sockets) socket.cork()
    try {
      return send()
    } finally {
      for (const socket of sockets) socket.uncork()
    }
  }

  #index(s: ShardKeys): string[] {
    return [s.exp, s.keys, s.refOf, s.refs]
  }

  /** Run a script on every shard at once (one slot each) and collect the replies. */
  #everyShard(action: string, script: Script, args: (string | number)[]): Promise<Reply[][]> {
    return this.#together(() =>
      Promise.all(
        this.#shards.map(
          async (s) => (await this.#run(action, script, this.#index(s), [s.tag, ...args])) as Reply[],
        ),
      ),
    )
  }

  /**
   * One command either way. Usually a plain `GET`: the row's Redis TTL is its expiry (every
   * script that sets the expiry sets `PEXPIREAT` to it, on Redis's clock), so Redis itself hides an
   * expired row, and `now` is the shard's last reading of `TIME` plus the time elapsed since,
   * measured from the send so it never runs behind Redis. At most once a second per shard the
   * read is the script, which reads `TIME` again. Why: docs/redis.md, "Reads are a plain GET".
   */
  read(key: string): Promise<ReadResult | null> {
    try {
      validateKey(SOURCE, key)
    } catch (error) {
      return Promise.reject(error)
    }
    const i = shardOf(key, this.#shards.length)
    const s = this.#shards[i] as ShardKeys
    const row = rowKey(s.tag, key)
    const sent = performance.now()
    const clock = this.#clocks[i]
    if (clock === undefined || sent - clock.sent > CLOCK_MS) {
      return this.#run('read', SCRIPTS.read, [row], []).then((reply) => {
        const r = reply as Reply[]
        const now = num(r[0])
        this.#clocks[i] = { at: now, sent }
        return r.length === 1 ? null : rowOf(SOURCE, key, r[1] as Buffer, now)
      })
    }
    return this.#send('read', () => this.client.getBuffer(row)).then((reply) => {
      if (reply === null) return null
      // `TIME` was floored to the ms: + 1 keeps the estimate from running behind Redis.
      const now = Math.ceil(clock.at + 1 + (performance.now() - clock.sent))
      const r = rowOf(SOURCE, key, reply as Buffer, now)
      // An expiry already past (a row Redis has not expired yet, within the clock's reading
      // error, or one that lost its TTL) is no row, as the script would say.
      return r.expiry.getTime() <= now ? null : r
    })
  }

  async write(req: WriteRequest): Promise<WriteResult> {
    validateWrite(SOURCE, req, this.maxDataBytes)
    const s = this.#shard(req.key)
    const row = rowKey(s.tag, req.key)
    const opts = `${MODE[req.mode]}${req.keepExpiry === true ? 'k' : ''}:${req.ttl}:${req.maxAge ?? ''}:${req.version ?? ''}`
    const staged = req.data.byteLength >= STAGE_MIN
    const args: (string | Buffer)[] = [staged ? '' : payloadArg(req.data), opts]
    if (req.ref !== null || req.lease !== undefined) args.push(req.ref ?? '')
    if (req.lease !== undefined) args.push(req.lease)
    const reply = staged ? this.#staged(s, row, req, args) : this.#run('write', SCRIPTS.write, [row], args)
    const r = str(await reply)
    const colon = r.indexOf(':')
    if (colon > 0)
      return { ok: true, version: Number(r.slice(0, colon)), expiry: new Date(Number(r.slice(colon + 1))) }
    return { ok: false, reason: r as 'exists' | 'missing' | 'conflict' }
  }

  /**
   * Two commands in one round trip: the payload on a stage key, then the script that checks the
   * row and renames the stage into place (or deletes it). Corked, the two leave in one write, and
   * Redis reads, runs and answers both in one pass.
   */
  #staged(s: ShardKeys, row: string, req: WriteRequest, args: (string | Buffer)[]): Promise<Reply> {
    const stage = `${s.tag}:t:${this.#stageId}${(this.#stages++).toString(36)}`
    const value = stageValue(req.ref, req.data)
    return this.#together(() => {
      const set = this.#send('write', () => this.client.set(stage, value, 'PX', STAGE_TTL_MS))
      const run = this.#run('write', SCRIPTS.write, [row, stage], args)
      return Promise.all([set, run]).then(([, r]) => r)
    })
  }

  async touch(req: TouchRequest): Promise<boolean> {
    validateTouch(SOURCE, req)
    const s = this.#shard(req.key)
    const args: (string | number)[] = [req.ttl]
    if (req.maxAge !== undefined || req.lease !== undefined) args.push(req.maxAge ?? '')
    if (req.lease !== undefined) args.push(req.lease)
    return (await this.#run('touch', SCRIPTS.touch, [rowKey(s.tag, req.key)], args)) === 1
  }

  async lease(req: LeaseRequest): Promise<LeaseResult> {
    validateLease(SOURCE, req)
    const s = this.#shard(req.key)
    const r = (await this.#run(
      'lease',
      SCRIPTS.lease,
      [rowKey(s.tag, req.key)],
      [req.token, req.ttl],
    )) as Reply[]
    const status = str(r[0])
    if (status === 'missing') return { ok: false, reason: 'missing' }
    if (status === 'held') return { ok: false, reason: 'held', wait: num(r[1]) }
    return { ok: true, row: rowOf(SOURCE, req.key, r[2] as Buffer, num(r[1])) }
  }

  async release(key: string, token: string): Promise<boolean> {
    validateKey(SOURCE, key)
    validateToken(SOURCE, token)
    const s = this.#shard(key)
    return (await this.#run('release', SCRIPTS.release, [rowKey(s.tag, key)], [token])) === 1
  }

  // The hint saves nothing: the script finds the ref in the same round trip either way.
  async destroy(key: string, hint?: DestroyHint): Promise<SessionRef | null> {
    validateKey(SOURCE, key)
    validateDestroyHint(SOURCE, hint)
    const s = this.#shard(key)
    const r = await this.#run('destroy', SCRIPTS.destroy, [rowKey(s.tag, key)], [])
    return r === null ? null : { key, ref: refOf(r) }
  }

  async sweep(limit: number): Promise<SessionRef[]> {
    validateLimit(SOURCE, limit)
    const out: SessionRef[] = []
    // Shards are visited one script at a time, from a rotating start, so the limit holds and
    // concurrent sweepers tend to start on different shards.
    const n = this.#shards.length
    const start = this.#sweepFrom++ % n
    for (let i = 0; i < n && out.length < limit; i++) {
      const s = this.#shards[(start + i) % n] as ShardKeys
      const r = (await this.#run('sweep', SCRIPTS.sweep, this.#index(s), [
        s.tag,
        limit - out.length,
      ])) as Reply[]
      for (let j = 0; j < r.length; j += 2) out.push({ key: str(r[j]), ref: refOf(r[j + 1]) })
    }
    return out
  }

  async findByRef(ref: string): Promise<SessionInfo[]> {
    validateRef(SOURCE, ref)
    if (ref === null) throw new SessionError('E_INVALID', SOURCE, 'findByRef needs a ref')
    const out: SessionInfo[] = []
    for (const r of await this.#everyShard('findByRef', SCRIPTS.findByRef, [ref])) {
      for (let j = 0; j < r.length; j += 2) out.push(infoOf(SOURCE, str(r[j]), ref, r[j + 1] as Buffer))
    }
    return out.sort((a, b) => a.created.getTime() - b.created.getTime() || cmp(a.key, b.key))
  }

  async destroyByRef(ref: string): Promise<SessionRef[]> {
    validateRef(SOURCE, ref)
    if (ref === null) throw new SessionError('E_INVALID', SOURCE, 'destroyByRef needs a ref')
    const replies = await this.#everyShard('destroyByRef', SCRIPTS.destroyByRef, [ref])
    return replies.flat().map((k) => ({ key: str(k), ref }))
  }

  async count(): Promise<number> {
    const counts = await this.#together(() =>
      Promise.all(this.#shards.map((s) => this.#run('count', SCRIPTS.count, [s.exp], []))),
    )
    return counts.reduce<number>((sum, c) => sum + Number(c), 0)
  }

  async refs(limit: number): Promise<string[]> {
    validateLimit(SOURCE, limit)
    const replies = await this.#everyShard('refs', SCRIPTS.refs, [limit])
    return [...new Set(replies.flat().map(str))].sort(cmp).slice(0, limit)
  }

  async list(options: ListOptions): Promise<StoredSession[]> {
    validateLimit(SOURCE, options?.limit)
    if (options.after !== undefined) validateKey(SOURCE, options.after)
    const replies = await this.#everyShard('list', SCRIPTS.list, [options.limit, options.after ?? ''])
    const out: StoredSession[] = []
    for (const r of replies) {
      for (let j = 0; j < r.length; j += 2) out.push(storedOf(SOURCE, str(r[j]), r[j + 1] as Buffer))
    }
    return out.sort((a, b) => cmp(a.key, b.key)).slice(0, options.limit)
  }

  async clear(): Promise<void> {
    await this.#everyShard('clear', SCRIPTS.clear, [])
  }

  async now(): Promise<Date> {
    if (this.#closed) throw new SessionError('E_STORE', SOURCE, 'the store is closed')
    try {
      const [sec, usec] = (await this.client.time()) as [string | number, string | number]
      return new Date(Number(sec) * 1000 + Math.floor(Number(usec) / 1000))
    } catch (error) {
      throw storeError(SOURCE, 'now', error)
    }
  }

  async close(): Promise<void> {
    if (this.#closed) return
    this.#closed = true
    if (!this.#owned) return
    try {
      await this.client.quit()
    } catch {
      this.client.disconnect()
    }
  }
}

/**
 * A Sessile store on Redis (ioredis): one Redis, or a Redis Cluster when `url` lists several
 * hosts or `cluster: true`. Every operation is one round trip on one slot (a Lua script, or a
 * plain `GET` for most reads), on Redis's clock.
 *
 * @example
 * import { createSessions } from '@sessile/core'
 * import { redisStore } from '@sessile/redis'
 * const sessions = createSessions({ store: redisStore({ url: 'redis://127.0.0.1:6379' }) })
 */
export function redisStore(options: RedisStoreOptions = {}): RedisStore {
  return new RedisStore(options)
}
