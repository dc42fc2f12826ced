import { randomBytes } from 'node:crypto'
import { dbUnavailable } from '@sessile/core/testing'
import { Redis } from 'ioredis'
import { redisStore } from '../src/index.js'

export const REDIS_URL = process.env.SESSILE_REDIS_URL ?? 'redis://127.0.0.1:6379/0'

/** A prefix of this run only: tests share the machine's Redis and delete only their own keys. */
export const uniquePrefix = (): string => `sessile-test-${randomBytes(6).toString('hex')}:`

/** Skip loudly when Redis is down locally; fail with CI=true. */
export async function reachRedis(url = REDIS_URL) {
  const probe = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null })
  probe.on('error', () => {})
  try {
    await probe.connect()
    await probe.ping()
    return dbUnavailable('Redis', null)
  } catch (error) {
    return dbUnavailable('Redis', error)
  } finally {
    probe.disconnect()
  }
}

/** Delete every key under `prefix` (SCAN + UNLINK on one node), never FLUSHDB. */
export async function dropPrefix(url: string, prefix: string): Promise<void> {
  const r = new Redis(url)
  try {
    let cursor = '0'
    do {
      const [next, keys] = await r.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000)
      cursor = next
      if (keys.length > 0) await r.unlink(...keys)
    } while (cursor !== '0')
  } finally {
    r.disconnect()
  }
}

/** A client that records the name of every command it sends (NOSCRIPT retries included). */
export function recordingClient(url = REDIS_URL): { client: Redis; sent: string[] } {
  const client = new Redis(url)
  const sent: string[] = []
  const send = client.sendCommand.bind(client)
  client.sendCommand = ((command: { name: string }, stream?: unknown) => {
    sent.push(command.name.toLowerCase())
    return send(command as never, stream as never)
  }) as typeof client.sendCommand
  return { client, sent }
}

/**
 * A store of one shard (every key in hash tag {0}, one reading of the clock) on a recording
 * client (also returned), a raw client beside it, and `put` (an upsert with ref 'alice'). Call `close` in afterAll.
 */
export function oneShard() {
  const prefix = uniquePrefix()
  const { client, sent } = recordingClient()
  const store = redisStore({ client, prefix, shards: 1, onWarning: false })
  const raw = new Redis(REDIS_URL)
  const put = (key: string, data: string, ttl = 60_000) =>
    store.write({ key, data: new TextEncoder().encode(data), ref: 'alice', mode: 'upsert', ttl })
  const close = async () => {
    await store.close()
    client.disconnect()
    raw.disconnect()
    await dropPrefix(REDIS_URL, prefix)
  }
  return { prefix, sent, store, client, raw, put, close }
}

type Write = (this: unknown, ...args: unknown[]) => unknown

/**
 * Count a socket's writes from now on: 1 per plain write, the number of chunks per gathered one
 * (corked commands). `restore` puts the socket's own methods back.
 */
export function countWrites(socket: unknown): { writes: number[]; restore: () => void } {
  const s = socket as { _write: Write; _writev: Write }
  const writes: number[] = []
  const { _write, _writev } = s
  s._write = function (...a: unknown[]) {
    writes.push(1)
    return _write.apply(this, a)
  }
  s._writev = function (...a: unknown[]) {
    writes.push((a[0] as unknown[]).length)
    return _writev.apply(this, a)
  }
  return {
    writes,
    restore: () => {
      s._write = _write
      s._writev = _writev
    },
  }
}
