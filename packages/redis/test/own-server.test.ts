import { spawn } from 'node:child_process'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { isSessionError } from '@sessile/core'
import { freePort } from '@sessile/core/testing'
import { Redis } from 'ioredis'
import { afterAll, describe, expect, it } from 'vitest'
import { redisStore } from '../src/index.js'
import { reachRedis } from './_helpers.js'

// A redis-server of this file's own (the shared one is never restarted or reconfigured), on a
// free loopback port.
const reach = await reachRedis()
const PORT = await freePort()
let dir = ''
let pid: number | undefined

async function startServer(...extra: string[]): Promise<void> {
  dir ||= await mkdtemp(join(tmpdir(), 'sessile-redis-own-'))
  const child = spawn(
    'redis-server',
    [
      '--port',
      String(PORT),
      '--bind',
      '127.0.0.1',
      '--save',
      '',
      '--appendonly',
      'no',
      '--dir',
      dir,
      ...extra,
    ],
    { stdio: 'ignore' },
  )
  pid = child.pid
  const probe = new Redis(PORT, '127.0.0.1', { lazyConnect: true, retryStrategy: () => null })
  probe.on('error', () => {})
  for (let i = 0; i < 100; i++) {
    try {
      await probe.connect()
      await probe.ping()
      probe.disconnect()
      return
    } catch {
      await sleep(50)
    }
  }
  throw new Error(`redis-server on ${PORT} did not start`)
}

async function stopServer(): Promise<void> {
  if (pid === undefined) return
  const p = pid
  pid = undefined
  process.kill(p, 'SIGKILL')
  for (let i = 0; i < 100; i++) {
    try {
      process.kill(p, 0)
      await sleep(20)
    } catch {
      return
    }
  }
}

afterAll(async () => {
  await stopServer()
  if (dir) await rm(dir, { recursive: true, force: true })
})

describe.skipIf(reach.skip)('a Redis that restarts', () => {
  it('fails requests with E_STORE while it is down and serves again after it is back, same store', async () => {
    await startServer()
    const store = redisStore({ url: `redis://127.0.0.1:${PORT}`, prefix: 'restart:', onWarning: false })
    try {
      const w = await store.write({
        key: 'k1',
        data: new Uint8Array([1]),
        ref: 'u',
        mode: 'insert',
        ttl: 60_000,
      })
      expect(w.ok).toBe(true)
      await stopServer()
      const started = Date.now()
      const e = await store.read('k1').catch((error: unknown) => error)
      expect(isSessionError(e) && e.code === 'E_STORE').toBe(true)
      // The message names the connection error, not only the client's retry limit.
      expect((e as Error).message).toMatch(
        /read failed: Redis is not connected \(.*(ECONNREFUSED|ECONNRESET|EPIPE)/,
      )
      // Fails fast rather than waiting in the offline queue.
      expect(Date.now() - started).toBeLessThan(5_000)
      await startServer()
      // The restarted server is empty (no persistence): the client reconnected by itself and
      // the scripts are loaded again on the NOSCRIPT answer.
      let back: unknown
      for (let i = 0; i < 100; i++) {
        back = await store.read('k1').catch((error: unknown) => error)
        if (!isSessionError(back)) break
        await sleep(100)
      }
      expect(back).toBeNull()
      const again = await store.write({
        key: 'k2',
        data: new Uint8Array([2]),
        ref: null,
        mode: 'insert',
        ttl: 60_000,
      })
      expect(again.ok).toBe(true)
      expect(await store.count()).toBe(1)
    } finally {
      await store.close()
    }
  })
})

describe('a Redis that nobody listens on', () => {
  it('fails with E_STORE naming the refused connection, and the store closes', async () => {
    const port = await freePort()
    const store = redisStore({ url: `redis://127.0.0.1:${port}`, prefix: 'nobody:', onWarning: false })
    try {
      const e = await store.count().catch((error: unknown) => error)
      expect(isSessionError(e) && e.code === 'E_STORE').toBe(true)
      expect((e as Error).message).toMatch(
        /count failed: Redis is not connected \(.*ECONNREFUSED 127\.0\.0\.1/,
      )
      expect((e as Error).message).not.toMatch(/maxRetriesPerRequest/)
      // The cause is the connection error itself, for apps that print `error.cause`.
      expect(((e as Error).cause as Error).message).toMatch(/ECONNREFUSED/)
    } finally {
      await store.close()
    }
  })
})

describe.skipIf(reach.skip)('maxmemory-policy', () => {
  it('warns once at start-up when Redis may evict sessions, and not under noeviction', async () => {
    await stopServer()
    await startServer('--maxmemory-policy', 'allkeys-lru')
    const warnings: string[] = []
    const store = redisStore({
      url: `redis://127.0.0.1:${PORT}`,
      prefix: 'evict:',
      onWarning: (m) => warnings.push(m),
    })
    try {
      await store.count()
      await store.count()
      for (let i = 0; i < 50 && warnings.length === 0; i++) await sleep(20)
      expect(warnings).toHaveLength(1)
      expect(warnings[0]).toMatch(/allkeys-lru/)
      expect(warnings[0]).toMatch(/indexes/)
    } finally {
      await store.close()
    }
    await stopServer()
    await startServer('--maxmemory-policy', 'noeviction')
    const quiet: string[] = []
    const ok = redisStore({
      url: `redis://127.0.0.1:${PORT}`,
      prefix: 'evict:',
      onWarning: (m) => quiet.push(m),
    })
    try {
      await ok.count()
      await sleep(100)
      expect(quiet).toEqual([])
    } finally {
      await ok.close()
    }
  })
})

describe.skipIf(reach.skip)('at maxmemory under noeviction', () => {
  it('refuses writes with E_STORE, writes nothing partial, and still reads', async () => {
    await stopServer()
    await startServer('--maxmemory', '2mb', '--maxmemory-policy', 'noeviction')
    const store = redisStore({ url: `redis://127.0.0.1:${PORT}`, prefix: 'oom:', onWarning: false })
    try {
      const data = new Uint8Array(64 * 1024).fill(1)
      await store.write({ key: 'first', data, ref: 'u', mode: 'insert', ttl: 60_000 })
      let refused: unknown
      let written = 1
      for (let i = 0; i < 200 && refused === undefined; i++) {
        try {
          await store.write({ key: `k${i}`, data, ref: 'u', mode: 'insert', ttl: 60_000 })
          written++
        } catch (error) {
          refused = error
        }
      }
      expect(isSessionError(refused) && refused.code === 'E_STORE').toBe(true)
      expect(String((refused as Error).message)).toMatch(/OOM|maxmemory/)
      // Every row that was acknowledged is whole and indexed; the refused one left nothing.
      expect(await store.count()).toBe(written)
      expect((await store.read('first'))?.data.byteLength).toBe(data.byteLength)
      expect((await store.findByRef('u')).length).toBe(written)
    } finally {
      await store.close()
    }
  })
})
